//! [`Combining`]: the accumulator of a [`CombineFn`] (Beam's `CombiningState`), and the built-in combine
//! functions [`Sum`], [`Count`], [`Min`], [`Max`] and [`Mean`].

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use super::StateCell;

/// A function that folds inputs into an accumulator and extracts an output from it (Beam's `CombineFn`).
///
/// Beam's four operations: [`create_accumulator`](CombineFn::create_accumulator) makes an empty accumulator,
/// [`add_input`](CombineFn::add_input) folds one input into it,
/// [`merge_accumulators`](CombineFn::merge_accumulators) merges several into one and
/// [`extract_output`](CombineFn::extract_output) reads the result. Merging with an empty accumulator must
/// change nothing.
///
/// ```
/// use dofn::state::{CombineFn, Combining};
///
/// /// The longest string seen.
/// #[derive(Default)]
/// struct Longest;
///
/// impl CombineFn for Longest {
///     type Input = String;
///     type Accum = String;
///     type Output = usize;
///     fn create_accumulator(&self) -> String {
///         String::new()
///     }
///     fn add_input(&self, acc: &mut String, input: String) {
///         if input.len() > acc.len() {
///             *acc = input;
///         }
///     }
///     fn merge_accumulators(&self, accs: impl IntoIterator<Item = String>) -> String {
///         accs.into_iter().max_by_key(String::len).unwrap_or_default()
///     }
///     fn extract_output(&self, acc: &String) -> usize {
///         acc.len()
///     }
/// }
///
/// let mut longest = Combining::<Longest>::default();
/// longest.add("ab".to_string());
/// longest.add("abcd".to_string());
/// longest.add("abc".to_string());
/// assert_eq!(longest.read(), 4);
/// ```
pub trait CombineFn {
    /// What [`add_input`](CombineFn::add_input) takes.
    type Input;
    /// The intermediate state a [`Combining`] cell stores.
    type Accum;
    /// What [`extract_output`](CombineFn::extract_output) returns.
    type Output;

    /// A new, empty accumulator.
    fn create_accumulator(&self) -> Self::Accum;
    /// Folds `input` into `acc`.
    fn add_input(&self, acc: &mut Self::Accum, input: Self::Input);
    /// Merges `accs` into one accumulator.
    fn merge_accumulators(&self, accs: impl IntoIterator<Item = Self::Accum>) -> Self::Accum;
    /// The output for `acc`.
    fn extract_output(&self, acc: &Self::Accum) -> Self::Output;
}

/// A cell holding the accumulator of the combine function `F` (Beam's `CombiningState`).
///
/// It starts empty; reading an empty cell extracts the output of a fresh accumulator (so an empty
/// `Combining<Sum<i64>>` reads `0`). Only the accumulator is serialised, as a list of none or one (`[]` for an
/// empty cell, as [`Value`](super::Value) does): the function is rebuilt with [`Default`].
///
/// ```
/// use dofn::state::{Combining, Mean, Sum};
/// let mut total = Combining::<Sum<i64>>::default();
/// assert_eq!(total.read(), 0);
/// total.add(3);
/// total.add(4);
/// total.add_accum(10);
/// assert_eq!(total.read(), 17);
///
/// let mut mean = Combining::<Mean<u32>>::default();
/// assert_eq!(mean.read(), None);
/// mean.add(1);
/// mean.add(2);
/// assert_eq!(mean.read(), Some(1.5));
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent, bound(serialize = "F::Accum: Serialize", deserialize = "F: Default, F::Accum: Deserialize<'de>"))]
pub struct Combining<F: CombineFn> {
    #[serde(skip)]
    fn_: F,
    #[serde(with = "super::zero_or_one")]
    accum: Option<F::Accum>,
}

impl<F: CombineFn> Combining<F> {
    /// An empty cell combining with `combine_fn`. A DoFn's cells are made by their spec, one per key and
    /// window: with the function's [`Default`] ([`StateSpec::new`](super::StateSpec::new)), or with a copy of
    /// a configured function ([`StateSpec::combining`](super::StateSpec::combining)).
    #[inline]
    pub fn with_fn(combine_fn: F) -> Self {
        Combining { fn_: combine_fn, accum: None }
    }

    /// The combine function.
    #[inline]
    pub fn combine_fn(&self) -> &F {
        &self.fn_
    }

    /// Folds `input` into the accumulator, creating it first if the cell is empty.
    #[inline]
    pub fn add(&mut self, input: F::Input) {
        let acc = self.accum.get_or_insert_with(|| self.fn_.create_accumulator());
        self.fn_.add_input(acc, input);
    }

    /// Merges `accum` into the accumulator; if the cell is empty, `accum` becomes its accumulator.
    pub fn add_accum(&mut self, accum: F::Accum) {
        self.accum = Some(match self.accum.take() {
            Some(current) => self.fn_.merge_accumulators([current, accum]),
            None => accum,
        });
    }

    /// The output extracted from the accumulator, or from a fresh one if the cell is empty.
    #[inline]
    pub fn read(&self) -> F::Output {
        match &self.accum {
            Some(acc) => self.fn_.extract_output(acc),
            None => self.fn_.extract_output(&self.fn_.create_accumulator()),
        }
    }

    /// The accumulator, or `None` if the cell is empty.
    #[inline]
    pub fn read_accum(&self) -> Option<&F::Accum> {
        self.accum.as_ref()
    }

    /// Empties the cell.
    #[inline]
    pub fn clear(&mut self) {
        self.accum = None;
    }

    /// Whether the cell holds no accumulator (nothing was added since it was created or cleared).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.accum.is_none()
    }
}

/// A combine function that an empty [`Combining`] cell can be made with by [`Default`] (by
/// [`StateSpec::new`](super::StateSpec::new), say). Every `CombineFn + Default` has it; a function with
/// parameters goes to [`StateSpec::combining`](super::StateSpec::combining) instead.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `Default`, so `Combining<{Self}>` cannot be made with `Default`",
    label = "`{Self}` has no `Default`",
    note = "a DoFn's `Combining` cell declared with `StateSpec::new()` or `Default` builds its combine function \
            with `Default`, for every key and window",
    note = "give a function with parameters (the `n` of a top-n, say) to the spec instead: \
            `StateSpec::combining(TopN {{ n: 3 }})`; a derived `Default` would give every cell zero or empty \
            parameters"
)]
pub trait DefaultCombineFn: CombineFn + Default {}

// Not recommended: an error names `DefaultCombineFn` (whose note says how to give parameters) rather than
// suggesting a derived `Default`, which would silently zero them.
#[diagnostic::do_not_recommend]
impl<F: CombineFn + Default> DefaultCombineFn for F {}

impl<F: DefaultCombineFn> Default for Combining<F> {
    /// An empty cell with the default combine function.
    #[inline]
    fn default() -> Self {
        Combining::with_fn(F::default())
    }
}

impl<F> StateCell for Combining<F>
where
    F: CombineFn + Send + 'static,
    F::Accum: Send + 'static,
{
    const KIND: &'static str = "Combining";

    #[inline]
    fn clear(&mut self) {
        Combining::clear(self);
    }

    #[inline]
    fn is_empty(&self) -> bool {
        Combining::is_empty(self)
    }
}

/// Declares a built-in combine function: a data-less struct generic over its input type, with the impls that
/// `#[derive]` would get wrong (they would require the input type itself to be `Default`, `Clone`, ...).
macro_rules! builtin_fn {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<T>(PhantomData<fn(T) -> T>);

        impl<T> $name<T> {
            #[doc = concat!("The `", stringify!($name), "` function.")]
            #[inline]
            pub const fn new() -> Self {
                $name(PhantomData)
            }
        }

        impl<T> Default for $name<T> {
            #[inline]
            fn default() -> Self {
                $name::new()
            }
        }

        impl<T> Clone for $name<T> {
            #[inline]
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<T> Copy for $name<T> {}

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

builtin_fn! {
    /// The sum of the inputs (Beam's `Sum`); `0` for no input. Integer sums wrap on overflow, as Java's do.
    ///
    /// Implemented for `i32`, `i64`, `u32`, `u64`, `usize`, `f32` and `f64`.
    ///
    /// ```
    /// use dofn::state::{Combining, Sum};
    /// let mut sum = Combining::<Sum<f64>>::default();
    /// sum.add(0.5);
    /// sum.add(2.0);
    /// assert_eq!(sum.read(), 2.5);
    /// ```
    Sum
}

builtin_fn! {
    /// The number of inputs, of any type (Beam's `Count`).
    ///
    /// ```
    /// use dofn::state::{Combining, Count};
    /// let mut count = Combining::<Count<&str>>::default();
    /// count.add("a");
    /// count.add("b");
    /// assert_eq!(count.read(), 2);
    /// ```
    Count
}

builtin_fn! {
    /// The smallest input, or `None` for no input (Beam's `Min`). Of equal inputs the first is kept; an
    /// input that does not compare (a NaN) replaces nothing, and nothing replaces it if it comes first.
    ///
    /// ```
    /// use dofn::state::{Combining, Min};
    /// let mut min = Combining::<Min<i32>>::default();
    /// assert_eq!(min.read(), None);
    /// min.add(3);
    /// min.add(-1);
    /// assert_eq!(min.read(), Some(-1));
    /// ```
    Min
}

builtin_fn! {
    /// The largest input, or `None` for no input (Beam's `Max`). Of equal inputs the first is kept; an
    /// input that does not compare (a NaN) replaces nothing, and nothing replaces it if it comes first.
    ///
    /// ```
    /// use dofn::state::{Combining, Max};
    /// let mut max = Combining::<Max<String>>::default();
    /// max.add("apple".to_string());
    /// max.add("pear".to_string());
    /// assert_eq!(max.read().as_deref(), Some("pear"));
    /// ```
    Max
}

builtin_fn! {
    /// The arithmetic mean of the inputs as `f64`, or `None` for no input (Beam's `Mean`).
    ///
    /// Implemented for `i32`, `i64`, `u32`, `u64`, `usize`, `f32` and `f64`; its accumulator is a
    /// [`MeanAccumulator`].
    ///
    /// ```
    /// use dofn::state::{Combining, Mean, MeanAccumulator};
    /// let mut mean = Combining::<Mean<i64>>::default();
    /// mean.add(2);
    /// mean.add_accum(MeanAccumulator { sum: 10.0, count: 3 });
    /// assert_eq!(mean.read(), Some(3.0));
    /// ```
    Mean
}

/// The accumulator of [`Mean`]: the sum and the number of the inputs so far.
///
/// ```
/// use dofn::state::MeanAccumulator;
/// let acc = MeanAccumulator { sum: 6.0, count: 4 };
/// assert_eq!(acc.mean(), Some(1.5));
/// assert_eq!(MeanAccumulator::default().mean(), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MeanAccumulator {
    /// The sum of the inputs.
    pub sum: f64,
    /// The number of inputs.
    pub count: u64,
}

impl MeanAccumulator {
    /// The mean, or `None` if there was no input.
    #[inline]
    pub fn mean(&self) -> Option<f64> {
        // Precision loss past 2^53 inputs is acceptable for a mean.
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    #[inline]
    fn push(&mut self, value: f64) {
        self.sum += value;
        self.count = self.count.saturating_add(1);
    }

    #[inline]
    fn merge(mut self, other: MeanAccumulator) -> MeanAccumulator {
        self.sum += other.sum;
        self.count = self.count.saturating_add(other.count);
        self
    }
}

impl<T> CombineFn for Count<T> {
    type Input = T;
    type Accum = u64;
    type Output = u64;

    #[inline]
    fn create_accumulator(&self) -> u64 {
        0
    }

    #[inline]
    fn add_input(&self, acc: &mut u64, _input: T) {
        *acc = acc.saturating_add(1);
    }

    fn merge_accumulators(&self, accs: impl IntoIterator<Item = u64>) -> u64 {
        accs.into_iter().fold(0, u64::saturating_add)
    }

    #[inline]
    fn extract_output(&self, acc: &u64) -> u64 {
        *acc
    }
}

/// `CombineFn` for [`Min`] and [`Max`]: the accumulator is the extreme so far, which an input replaces when it
/// compares `$op` (strictly, so that ties keep the first).
macro_rules! extreme_fn {
    ($name:ident, $op:tt) => {
        impl<T: PartialOrd + Clone> CombineFn for $name<T> {
            type Input = T;
            type Accum = Option<T>;
            type Output = Option<T>;

            #[inline]
            fn create_accumulator(&self) -> Option<T> {
                None
            }

            #[inline]
            fn add_input(&self, acc: &mut Option<T>, input: T) {
                match acc {
                    Some(current) if input $op *current => *current = input,
                    Some(_) => {}
                    None => *acc = Some(input),
                }
            }

            fn merge_accumulators(&self, accs: impl IntoIterator<Item = Option<T>>) -> Option<T> {
                accs.into_iter().flatten().fold(None, |mut acc, v| {
                    self.add_input(&mut acc, v);
                    acc
                })
            }

            #[inline]
            fn extract_output(&self, acc: &Option<T>) -> Option<T> {
                acc.clone()
            }
        }
    };
}

extreme_fn!(Min, <);
extreme_fn!(Max, >);

/// The arithmetic [`Sum`] and [`Mean`] need: a zero, an addition that does not panic, a conversion to `f64`.
trait Number: Copy {
    const ZERO: Self;
    fn plus(self, other: Self) -> Self;
    fn to_f64(self) -> f64;
}

macro_rules! int_number {
    ($($t:ty),*) => {$(
        impl Number for $t {
            const ZERO: Self = 0;
            #[inline]
            fn plus(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            #[inline]
            fn to_f64(self) -> f64 {
                // Precision loss past 2^53 is inherent to a mean in f64.
                self as f64
            }
        }
    )*};
}

int_number!(i32, i64, u32, u64, usize);

impl Number for f32 {
    const ZERO: Self = 0.0;
    #[inline]
    fn plus(self, other: Self) -> Self {
        self + other
    }
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Number for f64 {
    const ZERO: Self = 0.0;
    #[inline]
    fn plus(self, other: Self) -> Self {
        self + other
    }
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
}

/// One `CombineFn` impl of [`Sum`] and of [`Mean`] per numeric type, so that the docs list the types (a
/// blanket impl would name the private [`Number`] trait).
macro_rules! numeric_fns {
    ($($t:ty),*) => {$(
        impl CombineFn for Sum<$t> {
            type Input = $t;
            type Accum = $t;
            type Output = $t;

            #[inline]
            fn create_accumulator(&self) -> $t {
                <$t as Number>::ZERO
            }

            #[inline]
            fn add_input(&self, acc: &mut $t, input: $t) {
                *acc = acc.plus(input);
            }

            fn merge_accumulators(&self, accs: impl IntoIterator<Item = $t>) -> $t {
                accs.into_iter().fold(<$t as Number>::ZERO, Number::plus)
            }

            #[inline]
            fn extract_output(&self, acc: &$t) -> $t {
                *acc
            }
        }

        impl CombineFn for Mean<$t> {
            type Input = $t;
            type Accum = MeanAccumulator;
            type Output = Option<f64>;

            #[inline]
            fn create_accumulator(&self) -> MeanAccumulator {
                MeanAccumulator::default()
            }

            #[inline]
            fn add_input(&self, acc: &mut MeanAccumulator, input: $t) {
                acc.push(input.to_f64());
            }

            fn merge_accumulators(&self, accs: impl IntoIterator<Item = MeanAccumulator>) -> MeanAccumulator {
                accs.into_iter().fold(MeanAccumulator::default(), MeanAccumulator::merge)
            }

            #[inline]
            fn extract_output(&self, acc: &MeanAccumulator) -> Option<f64> {
                acc.mean()
            }
        }
    )*};
}

numeric_fns!(i32, i64, u32, u64, usize, f32, f64);
