using System.Diagnostics;
using AdamFamily.Execution;
using AdamFamily.Rules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Benchmarks;

/// <summary>
/// The measurements of <c>afm bench</c>: <c>step()</c> of our presets (at each state precision) against TorchSharp's
/// built-in optimizers in the same run, next to a streaming pass with an Adam step's memory traffic (the machine's
/// bandwidth limit), or epochs of a small MLP (<see cref="TrainBenchmark"/>). The command only prints the report.
/// </summary>
public static class StepBenchmark
{
    /// <summary>Runs the whole benchmark and returns its report (no console output except through <paramref name="log"/>).</summary>
    public static BenchReport Run(BenchSettings s, Action<string>? log = null)
    {
        log ??= _ => { };
        if (s.TorchThreads is { } tt) torch.set_num_threads(tt);
        var sets = new List<SetResult>();
        var steps = new List<StepResult>();
        var trains = new List<TrainResult>();
        var notes = s.Train ? new List<string>
        {
            "Epoch = zero_grad + forward + cross-entropy + backward + step over every batch; optimizer share = time inside step() / epoch time.",
            $"Our kernel may use {s.Threads} thread(s); LibTorch's forward/backward and TorchSharp's AdamW use its {torch.get_num_threads()} intra-op thread(s).",
        } : new List<string>
        {
            "TorchSharp's RAdam applies lr twice in its rectified branch (lr² bug, TorchSharp RAdam.cs): timed here, but not a numerical baseline.",
            "The limit is a SIMD pass that reads 4 arrays and writes 3 (7·n elements), on the same threads and chunks as our kernel, interleaved with the steps it is compared to. " +
                "% of limit compares medians; best % compares the fastest step with the fastest pass (less sensitive to other load on a shared machine).",
            "B/param = the bytes the step must move per parameter, each variant its own: x, g, m, v read and x, m, v written (28 B for float32 Adam state; 20 B with bfloat16 state; " +
                "16 B + 1/16 B of block scales with int8 state; more for AMSGrad, fewer for SGD). GB/s = B/param · parameters / median time. " +
                "Our non-finite check (policy throw) reads g once more and is not counted as moved bytes.",
            "state B/param = optimizer state kept per parameter (moment buffers and int8 block scales), read from the optimizer; × f32 state = median time over the same preset's with float32 state.",
            "Managed B/step: GC.GetAllocatedBytesForCurrentThread around the timed steps; for ours, + what the kernel's worker threads allocated (each measures itself).",
            "A set whose x, g, m, v fit in the last-level cache (1M float32 = 16 MB) is partly cache-resident: its GB/s and % of limit depend on what the interleaved passes leave in cache.",
        };
        if (s.Train)
            trains.AddRange(TrainBenchmark.Run(s, log));
        else
            foreach (var set in s.Sets)
                RunSet(s, set, sets, steps, log);
        return new BenchReport(
            Environment.MachineName, Environment.ProcessorCount, System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription, torch.__version__, torch.get_num_threads(),
            s.Threads, s.Policy.ToString().ToLowerInvariant(), s.Dtype == ScalarType.Float64 ? "float64" : "float32", s.Reps, s.Warmup,
            NativeTensors.Available, sets, steps, trains, notes);
    }

    private static void RunSet(BenchSettings s, ParameterSet set, List<SetResult> sets, List<StepResult> steps, Action<string> log)
    {
        log($"{set.Name}: {set.Shapes.Count} tensor(s), {set.Parameters:N0} parameters");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var scope = NewDisposeScope();
        manual_seed(1234);
        var parameters = set.Shapes.Select(shape => new Parameter(randn(shape, dtype: s.Dtype))).ToArray();
        foreach (var p in parameters)
        {
            using var g = randn(p.shape, dtype: s.Dtype).mul_(0.01);
            p.grad = g;
        }
        using var probe = new BandwidthProbe(set.Parameters, s.Dtype == ScalarType.Float64);
        for (int i = 0; i < Math.Max(1, s.Warmup); i++) probe.Run(s.Threads);
        var streamSamples = new List<double>();
        int elementSize = s.Dtype == ScalarType.Float64 ? 8 : 4;

        var results = new List<StepResult>();
        foreach (var preset in s.Presets)
        {
            var info = Presets.Get(preset);
            foreach (var precision in s.Precisions)
            {
                if (precision != StatePrecision.Float32 && !info.Keys.Contains("state_precision")) continue; // SGD: no moment state to shrink
                var options = precision == StatePrecision.Float32 ? "" : "state_precision=" + precision.Name();
                using var opt = Optimizers.Create(preset, parameters, options);
                opt.KernelThreads = s.Threads;
                opt.NonFinitePolicy = s.Policy;
                var rule = opt.Groups[0].Options.ToRule();
                double stateBytes = parameters.Sum(p => (double)opt.StateOf(p).StateBytes) / set.Parameters;
                var m = Time(() => opt.step(), probe, s, streamSamples, workerBytes: true);
                results.Add(new StepResult(set.Name, preset, "AdamFamily", precision.Name(), set.Parameters, set.Shapes.Count,
                    BytesPerParameter(rule, elementSize), stateBytes, m.Step, 0, 0, 0, null, null, m.AllocPerStep, m.WorkerAllocPerStep, null));
                log($"  {preset,-8} {precision.Name(),-8} ours        median {m.Step.Median,9:F3} ms");
            }
        }
        foreach (var name in s.Baselines)
        {
            var (make, streams, note) = Baseline(name);
            using var opt = make(parameters);
            var m = Time(() => opt.step(), probe, s, streamSamples, workerBytes: false);
            results.Add(new StepResult(set.Name, name, "TorchSharp", "float32", set.Parameters, set.Shapes.Count,
                streams * elementSize, (streams - 3) / 2 * elementSize, m.Step, 0, 0, 0, null, null, m.AllocPerStep, null, note));
            log($"  {name,-8} TorchSharp  median {m.Step.Median,9:F3} ms");
        }

        var stream = Stats.Of(streamSamples);
        double limit = probe.BytesPerPass / (stream.Median * 1e-3) / 1e9;
        double bestLimit = probe.BytesPerPass / (stream.Min * 1e-3) / 1e9;
        sets.Add(new SetResult(set.Name, set.Parameters, set.Shapes.Count, stream, limit, bestLimit));
        double? tsAdamW = results.FirstOrDefault(r => r.Implementation == "TorchSharp" && r.Optimizer == "adamw")?.Ms.Median;
        foreach (var r in results)
        {
            double bytes = r.BytesPerParameter * set.Parameters;
            double gbps = bytes / (r.Ms.Median * 1e-3) / 1e9;
            double best = bytes / (r.Ms.Min * 1e-3) / 1e9;
            double? f32 = r.Implementation == "AdamFamily"
                ? results.FirstOrDefault(x => x.Implementation == "AdamFamily" && x.Optimizer == r.Optimizer && x.StatePrecision == "float32")?.Ms.Median
                : null;
            steps.Add(r with
            {
                GBps = gbps, FractionOfLimit = gbps / limit, FractionOfLimitBest = best / bestLimit, SpeedupVsTorchSharpAdamW = tsAdamW / r.Ms.Median,
                VsFloat32State = r.Ms.Median / f32,
            });
        }
        foreach (var p in parameters) p.Dispose();
    }

    private sealed record Measured(Stats Step, double AllocPerStep, double? WorkerAllocPerStep);

    // Warm-up, then reps × (one bandwidth-probe pass, one step), each timed on its own: the limit is measured
    // under the same conditions as the steps it is compared to (on a shared machine the bandwidth drifts).
    private static Measured Time(Action step, BandwidthProbe probe, BenchSettings s, List<double> streamSamples, bool workerBytes)
    {
        for (int i = 0; i < s.Warmup; i++) step();
        var samples = new double[s.Reps];
        long allocated = 0, workers = 0;
        for (int i = 0; i < s.Reps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            probe.Run(s.Threads);
            streamSamples.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);

            long w0 = workerBytes ? KernelPool.Shared.WorkerAllocatedBytes : 0;
            long a0 = GC.GetAllocatedBytesForCurrentThread();
            long t1 = Stopwatch.GetTimestamp();
            step();
            long t2 = Stopwatch.GetTimestamp();
            allocated += GC.GetAllocatedBytesForCurrentThread() - a0;
            if (workerBytes) workers += KernelPool.Shared.WorkerAllocatedBytes - w0;
            samples[i] = Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
        }
        return new Measured(Stats.Of(samples), (double)allocated / s.Reps, workerBytes ? (double)workers / s.Reps : null);
    }

    /// <summary>
    /// Bytes a step of <paramref name="rule"/> moves per parameter element: x read and written and g read (the
    /// parameter's element size), and each state buffer read and written at its stored size (int8: its code plus its
    /// share of the block scale).
    /// </summary>
    public static double BytesPerParameter(UpdateRule rule, int elementSize)
    {
        double state = rule.StatePrecision.BytesPerElement(elementSize);
        int buffers = (rule.HasFirstMoment ? 1 : 0) + (rule.Estimator is null ? 0 : 1) + (rule.Estimator is { KeepsMax: true } ? 1 : 0);
        return 3 * elementSize + 2 * buffers * state;
    }

    private static (Func<Parameter[], torch.optim.Optimizer> Make, int Streams, string? Note) Baseline(string name) => name switch
    {
        "adam" => (p => torch.optim.Adam(p, lr: 1e-3), 7, null),
        "adamw" => (p => torch.optim.AdamW(p, lr: 1e-3, weight_decay: 1e-2), 7, null),
        "nadam" => (p => torch.optim.NAdam(p, lr: 2e-3), 7, null),
        "radam" => (p => torch.optim.RAdam(p, lr: 1e-3), 7, "lr² bug: not a numerical baseline"),
        "adamax" => (p => torch.optim.Adamax(p, lr: 2e-3), 7, null),
        "sgd" => (p => torch.optim.SGD(p, 1e-3), 3, "momentum 0"),
        _ => throw new ArgumentException($"unknown baseline '{name}'"),
    };
}
