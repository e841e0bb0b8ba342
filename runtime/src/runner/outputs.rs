//! The main outputs of a run, kept in the vectors the threads made them in.

use std::fmt;
use std::iter::FusedIterator;
use std::ops::Index;

use crate::context::WindowedValue;

/// A part smaller than this is appended to the part before it instead of being kept on its own, so that
/// runs with many small steps (a live source) do not leave many small vectors.
const SMALL_PART: usize = 1024;

/// Main outputs being collected, in order, as whole vectors (see `Node::step_parts`).
pub(crate) struct Parts<T> {
    parts: Vec<Vec<WindowedValue<T>>>,
}

impl<T> Default for Parts<T> {
    fn default() -> Self {
        Parts { parts: Vec::new() }
    }
}

impl<T> Parts<T> {
    /// The last part, to append to; made if there is none.
    pub(crate) fn last(&mut self) -> &mut Vec<WindowedValue<T>> {
        if self.parts.is_empty() {
            self.parts.push(Vec::new());
        }
        let last = self.parts.len() - 1;
        &mut self.parts[last]
    }

    /// Adds a part after the others: kept, or appended to the last part if it is small. A part kept with
    /// more than twice the room it needs (it was made for a bigger step) gives the rest back.
    pub(crate) fn push(&mut self, mut part: Vec<WindowedValue<T>>) {
        match self.parts.last_mut() {
            _ if part.is_empty() => {}
            Some(last) if part.len() < SMALL_PART => last.append(&mut part),
            _ => {
                if part.capacity() > 2 * part.len() {
                    part.shrink_to_fit();
                }
                self.parts.push(part)
            }
        }
    }

    /// The outputs collected.
    pub(crate) fn finish(mut self) -> MainOutputs<T> {
        self.parts.retain(|p| !p.is_empty());
        let ends = self
            .parts
            .iter()
            .scan(0, |end, part| {
                *end += part.len();
                Some(*end)
            })
            .collect();
        MainOutputs { parts: self.parts, ends }
    }
}

/// The main outputs of a run, in the order they were produced (on several workers, step by step and within a
/// step worker by worker: see [`Pipeline::with_workers`](crate::Pipeline::with_workers)).
///
/// They are kept in the vectors they were made in: with several workers, each worker's outputs of a step
/// stay where the worker wrote them, and are not copied into one vector at the end of each step. Read them
/// with [`MainOutputs::iter`] (or a `for` loop), index them, or take them as one vector with
/// [`MainOutputs::into_vec`] (which copies them unless they are in one part).
///
/// ```
/// use dofn::prelude::*;
///
/// let result = Pipeline::from_values([(1u32, Instant::from_secs(1)), (2, Instant::from_secs(2))]).run()?;
/// let outputs = result.outputs();
/// assert_eq!(outputs.len(), 2);
/// assert_eq!(outputs[1].value, 2);
/// let values: Vec<u32> = outputs.iter().map(|o| o.value).collect();
/// assert_eq!(values, [1, 2]);
/// # Ok::<(), dofn::Error>(())
/// ```
pub struct MainOutputs<T> {
    parts: Vec<Vec<WindowedValue<T>>>,
    /// The index after the last output of each part.
    ends: Vec<usize>,
}

impl<T> Default for MainOutputs<T> {
    fn default() -> Self {
        MainOutputs { parts: Vec::new(), ends: Vec::new() }
    }
}

impl<T> MainOutputs<T> {
    /// The number of outputs.
    pub fn len(&self) -> usize {
        self.ends.last().copied().unwrap_or(0)
    }

    /// Whether there are no outputs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The outputs in order.
    pub fn iter(&self) -> OutputsIter<'_, T> {
        OutputsIter { parts: self.parts.iter(), current: [].iter(), remaining: self.len() }
    }

    /// The output at `index`, if there are more outputs than that.
    pub fn get(&self, index: usize) -> Option<&WindowedValue<T>> {
        let part = self.ends.partition_point(|&end| end <= index);
        let start = if part == 0 { 0 } else { self.ends[part - 1] };
        self.parts.get(part)?.get(index - start)
    }

    /// The outputs as the slices they were made in, in order.
    pub fn parts(&self) -> impl ExactSizeIterator<Item = &[WindowedValue<T>]> {
        self.parts.iter().map(Vec::as_slice)
    }

    /// The outputs in one vector, in order.
    pub fn into_vec(self) -> Vec<WindowedValue<T>> {
        if self.parts.len() <= 1 {
            return self.parts.into_iter().next().unwrap_or_default();
        }
        let mut all = Vec::with_capacity(self.len());
        self.parts.into_iter().for_each(|mut part| all.append(&mut part));
        all
    }
}

impl<T> Index<usize> for MainOutputs<T> {
    type Output = WindowedValue<T>;

    /// The output at `index`.
    ///
    /// # Panics
    ///
    /// If `index` is not less than [`MainOutputs::len`].
    fn index(&self, index: usize) -> &WindowedValue<T> {
        match self.get(index) {
            Some(output) => output,
            None => panic!("output index {index} is out of range: the run made {} outputs", self.len()),
        }
    }
}

impl<'a, T> IntoIterator for &'a MainOutputs<T> {
    type Item = &'a WindowedValue<T>;
    type IntoIter = OutputsIter<'a, T>;

    fn into_iter(self) -> OutputsIter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for MainOutputs<T> {
    type Item = WindowedValue<T>;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<WindowedValue<T>>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.parts.into_iter().flatten()
    }
}

impl<T: Clone> Clone for MainOutputs<T> {
    fn clone(&self) -> Self {
        MainOutputs { parts: self.parts.clone(), ends: self.ends.clone() }
    }
}

/// Equal when the outputs are, in order, however they are split in parts.
impl<T: PartialEq> PartialEq for MainOutputs<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for MainOutputs<T> {}

impl<T: PartialEq> PartialEq<[WindowedValue<T>]> for MainOutputs<T> {
    fn eq(&self, other: &[WindowedValue<T>]) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: PartialEq, const N: usize> PartialEq<[WindowedValue<T>; N]> for MainOutputs<T> {
    fn eq(&self, other: &[WindowedValue<T>; N]) -> bool {
        *self == other[..]
    }
}

impl<T: PartialEq> PartialEq<Vec<WindowedValue<T>>> for MainOutputs<T> {
    fn eq(&self, other: &Vec<WindowedValue<T>>) -> bool {
        *self == other[..]
    }
}

impl<T: fmt::Debug> fmt::Debug for MainOutputs<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// An iterator over [`MainOutputs`], in order.
pub struct OutputsIter<'a, T> {
    parts: std::slice::Iter<'a, Vec<WindowedValue<T>>>,
    current: std::slice::Iter<'a, WindowedValue<T>>,
    remaining: usize,
}

impl<'a, T> Iterator for OutputsIter<'a, T> {
    type Item = &'a WindowedValue<T>;

    #[inline]
    fn next(&mut self) -> Option<&'a WindowedValue<T>> {
        loop {
            if let Some(output) = self.current.next() {
                self.remaining -= 1;
                return Some(output);
            }
            self.current = self.parts.next()?.iter();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }

    fn fold<B, G: FnMut(B, Self::Item) -> B>(self, init: B, mut g: G) -> B {
        // Part by part, so that each part is a plain slice loop.
        let acc = self.current.fold(init, &mut g);
        self.parts.fold(acc, |acc, part| part.iter().fold(acc, &mut g))
    }
}

impl<T> ExactSizeIterator for OutputsIter<'_, T> {}
impl<T> FusedIterator for OutputsIter<'_, T> {}

impl<T> Clone for OutputsIter<'_, T> {
    fn clone(&self) -> Self {
        OutputsIter { parts: self.parts.clone(), current: self.current.clone(), remaining: self.remaining }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;
    use crate::window::Window;

    fn values(range: std::ops::Range<u32>) -> Vec<WindowedValue<u32>> {
        range
            .map(|v| WindowedValue { timestamp: Instant::from_millis(v.into()), window: Window::GLOBAL, value: v })
            .collect()
    }

    #[test]
    fn parts_read_as_one_sequence() {
        let mut parts = Parts::default();
        parts.last().extend(values(0..3));
        parts.push(values(3..3000));
        parts.push(Vec::new());
        parts.push(values(3000..3010)); // small: appended to the part before
        parts.push(values(3010..5000));
        let mut roomy = Vec::with_capacity(100_000);
        roomy.extend(values(5000..7000));
        parts.push(roomy);
        assert!(parts.parts.last().is_some_and(|p| p.capacity() < 4000), "a part gives back the room it does not need");
        let outputs = parts.finish();
        assert_eq!(outputs.parts().map(<[_]>::len).collect::<Vec<_>>(), [3, 3007, 1990, 2000]);
        assert_eq!(outputs.len(), 7000);
        assert!(outputs.iter().map(|o| o.value).eq(0..7000));
        assert_eq!(outputs.iter().len(), 7000);
        assert_eq!(outputs.iter().fold(0u64, |sum, o| sum + u64::from(o.value)), (0..7000u64).sum::<u64>());
        for i in [0, 2, 3, 3009, 3010, 4999, 5000, 6999] {
            assert_eq!(outputs[i].value, i as u32);
        }
        assert!(outputs.get(7000).is_none());
        let mut iter = outputs.iter();
        iter.nth(2999);
        assert_eq!(iter.len(), 4000);
        assert_eq!(iter.next().map(|o| o.value), Some(3000));
        let mut one_part = Parts::default();
        one_part.push(values(0..7000));
        let one_part = one_part.finish();
        assert_eq!(one_part.parts().len(), 1);
        assert_eq!(outputs, one_part, "equal however the outputs are split");
        assert_eq!(outputs, values(0..7000));
        assert_ne!(outputs, values(0..6999));
        assert_ne!(outputs, values(1..7001));
        assert_eq!(outputs.clone(), outputs);
        assert!(outputs.into_vec().into_iter().map(|o| o.value).eq(0..7000));
    }

    #[test]
    fn no_outputs() {
        let outputs: MainOutputs<u32> = Parts::default().finish();
        assert!(outputs.is_empty());
        assert_eq!(outputs.iter().next(), None);
        assert!(outputs.get(0).is_none());
        assert_eq!(outputs, []);
        assert!(outputs.into_vec().is_empty());
    }
}
