// A DoFn is moved to worker threads: a lifetime parameter on its struct is one error, on the lifetime, and
// nothing else is reported (about the impl, or the uses of the DoFn).
use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Prefixed<'a> {
    prefix: &'a str,
    #[state_id("n")]
    n: StateSpec<Value<u32>>,
}

#[dofn]
impl<'a> Prefixed<'a> {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u32), String>, #[state_id("n")] n: &mut Value<u32>) {
        n.write(*cx.value());
        cx.output(format!("{}{}", self.prefix, cx.value()));
    }
}

fn main() {
    let input = [(("a".to_string(), 1u32), Instant::from_secs(1))];
    let dofn = Prefixed { prefix: "x", n: StateSpec::new() };
    let _ = Pipeline::from_values(input).apply(dofn).run();
}
