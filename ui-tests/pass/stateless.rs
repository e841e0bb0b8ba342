//! A stateless DoFn: no state, no timers, unkeyed input, `Key = ()`; and one with tagged outputs.

use dofn::prelude::*;

const TOO_LONG: OutputTag<String> = OutputTag::new("too_long");

#[dofn]
#[derive(Clone)]
struct SplitWords {
    max_len: usize,
}

#[dofn]
impl SplitWords {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<String, String>, Element(line): Element<&String>, window: &Window) {
        let _ = window;
        for word in line.split_whitespace() {
            if word.len() > self.max_len {
                cx.output_to(&TOO_LONG, word.to_string());
            } else {
                cx.output(word.to_string());
            }
        }
    }
}

#[dofn]
#[derive(Clone, Copy, Default)]
struct Identity;

#[dofn]
impl Identity {
    #[process_element]
    fn process(cx: &mut ProcessContext<u8, u8>, Element(x): Element<&u8>) {
        cx.output(*x);
    }
}

fn main() {
    fn assert_stateless<D: DoFn<Key = ()>>() {}
    assert_stateless::<SplitWords>();
    assert_stateless::<Identity>();
    assert!(!<SplitWords as DoFn>::is_stateful());
    let _ = SplitWords { max_len: 10 };
}
