"""W1 and W2 of dofn's issue 5 on Apache Beam's Python FnApiRunner (in-process), for comparison with dofn.

W1 counter: N elements over K keys, a ReadModifyWriteState count per key, the count output per element.
W2 bag + event-time timer: element i has key i % 1000 and timestamp i / 1000 ms; it is added to a BagState
and a watermark timer is reset to timestamp + 10 ms; the callback outputs the bag's sum and clears it.

Each workload's time is the wall time of `pipeline.run().wait_until_finish()`, source included; a stateless
pipeline over the same source is timed too, so that the cost of the source itself is visible.
Prints one line per run: workload, elements, seconds, elements/s.
"""

import argparse
import sys
import time
import typing

import apache_beam as beam
from apache_beam.coders import VarIntCoder
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import (
    BagStateSpec,
    ReadModifyWriteStateSpec,
    TimerSpec,
    on_timer,
)
from apache_beam.utils.timestamp import Duration

KV = typing.Tuple[int, int]
OUTPUTS = beam.metrics.Metrics.counter("bench", "outputs")
TOTAL = beam.metrics.Metrics.counter("bench", "sum")


def sink(value):
    """Counts the outputs and adds them up, in Beam counters (read back after the run)."""
    OUTPUTS.inc()
    TOTAL.inc(value)


class Counter(beam.DoFn):
    """W1: a count per key, the running count output with each element."""

    COUNT = ReadModifyWriteStateSpec("count", VarIntCoder())

    def process(self, element, count=beam.DoFn.StateParam(COUNT)):
        n = (count.read() or 0) + 1
        count.write(n)
        yield n


class BagTimer(beam.DoFn):
    """W2: adds each value to a bag and resets a watermark timer to 10 ms after it; the timer outputs the sum."""

    BAG = BagStateSpec("bag", VarIntCoder())
    FLUSH = TimerSpec("flush", TimeDomain.WATERMARK)

    def process(
        self,
        element,
        ts=beam.DoFn.TimestampParam,
        bag=beam.DoFn.StateParam(BAG),
        flush=beam.DoFn.TimerParam(FLUSH),
    ):
        bag.add(element[1])
        flush.set(ts + Duration(micros=10_000))

    @on_timer(FLUSH)
    def on_flush(self, bag=beam.DoFn.StateParam(BAG)):
        yield sum(bag.read())
        bag.clear()


def w1_source(p, n, keys):
    return p | "create" >> beam.Create([(i % keys, i) for i in range(n)], reshuffle=False)


def w2_source(p, n):
    return (
        p
        | "create" >> beam.Create([(i % 1000, i) for i in range(n)], reshuffle=False)
        | "timestamp" >> beam.Map(lambda kv: beam.window.TimestampedValue(kv, kv[1] / 1000.0 / 1000.0))
    )


def counter(result, name):
    found = result.metrics().query(beam.metrics.MetricsFilter().with_name(name))["counters"]
    return sum(c.committed or 0 for c in found)


def run(name, n, build):
    """Runs the pipeline `build` makes, prints its throughput, returns (number of outputs, their sum)."""
    options = PipelineOptions(["--direct_num_workers=1"])
    start = time.perf_counter()
    p = beam.Pipeline(runner=FnApiRunner(), options=options)
    build(p) | "sink" >> beam.Map(sink)
    result = p.run()
    result.wait_until_finish()
    seconds = time.perf_counter() - start
    outputs, total = counter(result, "outputs"), counter(result, "sum")
    print(f"{name}: {n} elements, {seconds:.2f} s, {n / seconds:,.0f} elements/s ({outputs} outputs)", flush=True)
    return outputs, total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=1, help="divide every size by this (default 1: the full sizes)")
    parser.add_argument(
        "--scale-1m-keys",
        type=int,
        help="divide the size of W1 with 1,000,000 keys by this instead (it is by far the slowest)",
    )
    parser.add_argument("--only", choices=["w1", "w2"], help="run one workload")
    args = parser.parse_args()
    print(f"apache-beam {beam.__version__}, Python {sys.version.split()[0]}, FnApiRunner in-process", flush=True)

    n1 = 10_000_000 // args.scale
    if args.only in (None, "w1"):
        run("source only (w1 input, stateless map)", n1, lambda p: w1_source(p, n1, 1000) | beam.Map(lambda kv: kv[1]))
        for keys, n in ((1_000, n1), (1_000_000, 10_000_000 // (args.scale_1m_keys or args.scale))):
            out, _ = run(
                f"W1 counter, {keys} keys",
                n,
                lambda p, keys=keys, n=n: w1_source(p, n, keys) | beam.ParDo(Counter()).with_input_types(KV),
            )
            assert out == n, f"W1 output {out} counts, expected {n}"
    n2 = 10_000_000 // args.scale
    if args.only in (None, "w2"):
        run("source only (w2 input, stateless map)", n2, lambda p: w2_source(p, n2) | beam.Map(lambda kv: kv[1]))
        out, total = run("W2 bag + event-time timer", n2, lambda p: w2_source(p, n2) | beam.ParDo(BagTimer()).with_input_types(KV))
        assert out == min(n2, 1000), f"W2 output {out} sums, expected one per key"
        assert total == n2 * (n2 - 1) // 2, "W2's sums add up to the sum of the values"


if __name__ == "__main__":
    main()
