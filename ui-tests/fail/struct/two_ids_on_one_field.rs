// A field with two ids is one error: on the id that its type does not declare, on the second of two of one
// kind, or on the type if it declares neither. The impl's uses of the extra ids are not reported too.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Both {
    #[state_id("x")]
    #[timer_id("x")]
    x: StateSpec<Value<u32>>,
    #[timer_id("y")]
    #[state_id("y")]
    y: StateSpec<Value<u32>>,
    #[timer_id("z")]
    #[timer_family_id("z")]
    z: Value<u32>,
    #[state_id("w")]
    #[state_id("v")]
    w: StateSpec<Value<u32>>,
}

#[dofn]
impl Both {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u32), u32>,
        #[state_id("x")] x: &mut Value<u32>,
        #[state_id("y")] y: &mut Value<u32>,
        #[timer_id("y")] t: &mut Timer,
        #[state_id("v")] v: &mut Value<u32>,
    ) {
        x.write(*cx.value());
        y.write(*cx.value());
        let _ = (t, v);
    }

    #[on_timer("x")]
    fn on_x(&self) {}
}

fn main() {}
