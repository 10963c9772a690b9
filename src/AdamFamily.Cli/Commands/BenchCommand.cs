using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AdamFamily.Execution;
using AdamFamily.Rules;
using Spectre.Console;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm bench</c>: times <c>step()</c> of our presets against TorchSharp's built-in optimizers in the same
/// run, next to a streaming pass with the same memory traffic (the machine's bandwidth limit for the step),
/// and reports median and spread, achieved GB/s, the fraction of the limit and managed bytes per step.
/// <c>--train</c> times epochs of a small MLP instead.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var presets = new Option<string>("--presets") { Description = "Our presets to time, comma-separated.", DefaultValueFactory = _ => "adamw,adamd" };
        var sizes = new Option<string>("--sizes")
        {
            Description = "Parameter sets, comma-separated: a count (10K, 1M, 11M, 2500000) for one tensor, or resnet18 (CIFAR ResNet-18's 62 tensors, 11.2M), or resnet18/K (its widths divided by K).",
            DefaultValueFactory = _ => "1M,11M,resnet18",
        };
        var baselines = new Option<string>("--baselines")
        {
            Description = "TorchSharp built-in optimizers to time in the same run (adam, adamw, nadam, radam, adamax, sgd), or none.",
            DefaultValueFactory = _ => "adam,adamw,nadam,radam,adamax,sgd",
        };
        var reps = new Option<int>("--reps") { Description = "Timed repetitions per case.", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps before the timed ones.", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads") { Description = "Most threads our kernel (and the bandwidth probe) may use.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var policy = new Option<string>("--policy") { Description = "Our non-finite gradient policy: throw (checks every gradient first; the default) or propagate (no check).", DefaultValueFactory = _ => "throw" };
        var dtype = new Option<string>("--dtype") { Description = "float32 or float64.", DefaultValueFactory = _ => "float32" };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file." };
        var smoke = new Option<bool>("--smoke") { Description = "Tiny sizes, 1 warm-up, 1 repetition: checks that the benchmark runs (for CI)." };
        var train = new Option<bool>("--train") { Description = "Time epochs of a 784-256-256-10 MLP on synthetic data (batch 128) instead of bare steps." };
        var epochs = new Option<int>("--epochs") { Description = "Timed epochs per optimizer with --train.", DefaultValueFactory = _ => 3 };
        var torchThreads = new Option<int?>("--torch-threads") { Description = "Set LibTorch's intra-op threads (torch.set_num_threads) for the run; default: LibTorch's own choice." };
        var cmd = new Command("bench", "Time optimizer steps against TorchSharp's built-ins and the machine's memory bandwidth.")
        {
            presets, sizes, baselines, reps, warmup, threads, policy, dtype, json, smoke, train, epochs, torchThreads,
        };
        cmd.SetAction(r =>
        {
            BenchSettings settings;
            try
            {
                settings = BenchSettings.From(
                    r.GetValue(presets)!, r.GetValue(sizes)!, r.GetValue(baselines)!, r.GetValue(reps), r.GetValue(warmup),
                    r.GetValue(threads), r.GetValue(policy)!, r.GetValue(dtype)!, r.GetValue(smoke), r.GetValue(train), r.GetValue(epochs),
                    explicitSizes: r.GetResult(sizes) is { Implicit: false }, explicitReps: r.GetResult(reps) is { Implicit: false });
                if (r.GetValue(torchThreads) is { } tt)
                    settings = settings with { TorchThreads = AdamFamily.Lab.Execution.UnitRunner.CheckThreads(tt, "--torch-threads") };
                if (r.GetResult(epochs) is { Implicit: false } && !r.GetValue(train))
                    throw new ArgumentException($"--epochs applies to --train (timed training epochs), which is not given; add --train or drop --epochs.");
                if (r.GetValue(warmup) < 0) throw new ArgumentException($"--warmup {r.GetValue(warmup)}: must be ≥ 0.");
                if (r.GetValue(train) && r.GetValue(epochs) < 1) throw new ArgumentException($"--epochs {r.GetValue(epochs)}: must be ≥ 1.");
                if (r.GetValue(json) is { } jsonPath) AdamFamily.Lab.LabFiles.CheckWritableFile(jsonPath, "--json");   // before minutes of timing, not after
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                return ExitCodes.Report(e);
            }
            var report = Run(settings, line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
            Print(report);
            if (r.GetValue(json) is { } file)
            {
                AdamFamily.Lab.LabFiles.WriteAtomically(file, ToJson(report));
                AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(file)}[/]");
            }
            return 0;
        });
        return cmd;
    }

    // ---- the measurements -----------------------------------------------------------------------------

    /// <summary>Runs the whole benchmark and returns its report (no console output except through <paramref name="log"/>).</summary>
    internal static BenchReport Run(BenchSettings s, Action<string>? log = null)
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
            "GB/s = the bytes the step must move (x, g, m, v read; x, m, v written; more for AMSGrad, fewer for SGD) / median time. Our non-finite check (policy throw) reads g once more and is not counted as moved bytes.",
            "Managed B/step: GC.GetAllocatedBytesForCurrentThread around the timed steps; for ours, + what the kernel's worker threads allocated (each measures itself).",
            "A set whose x, g, m, v fit in the last-level cache (1M float32 = 16 MB) is partly cache-resident: its GB/s and % of limit depend on what the interleaved passes leave in cache.",
        };
        if (s.Train)
            trains.AddRange(RunTraining(s, log));
        else
            foreach (var set in s.Sets)
                RunSet(s, set, sets, steps, log);
        return new BenchReport(
            Environment.MachineName, Environment.ProcessorCount, RuntimeVersion(), torch.__version__, torch.get_num_threads(),
            s.Threads, s.Policy.ToString().ToLowerInvariant(), s.Dtype == ScalarType.Float64 ? "float64" : "float32", s.Reps, s.Warmup,
            NativeTensors.Available, sets, steps, trains, notes);
    }

    private static string RuntimeVersion() => System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription;

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
            var rule = Presets.Get(preset).Defaults().ToRule();
            int streams = StreamsOf(rule);
            using var opt = Optimizers.Create(preset, parameters, (string?)null);
            opt.KernelThreads = s.Threads;
            opt.NonFinitePolicy = s.Policy;
            var m = Time(() => opt.step(), probe, s, streamSamples, workerBytes: true);
            results.Add(new StepResult(set.Name, preset, "AdamFamily", set.Parameters, set.Shapes.Count, streams, m.Step,
                0, 0, 0, null, m.AllocPerStep, m.WorkerAllocPerStep, null));
            log($"  {preset,-8} ours        median {m.Step.Median,9:F3} ms");
        }
        foreach (var name in s.Baselines)
        {
            var (make, streams, note) = Baseline(name);
            using var opt = make(parameters);
            var m = Time(() => opt.step(), probe, s, streamSamples, workerBytes: false);
            results.Add(new StepResult(set.Name, name, "TorchSharp", set.Parameters, set.Shapes.Count, streams, m.Step,
                0, 0, 0, null, m.AllocPerStep, null, note));
            log($"  {name,-8} TorchSharp  median {m.Step.Median,9:F3} ms");
        }

        var stream = Stats.Of(streamSamples);
        double limit = probe.BytesPerPass / (stream.Median * 1e-3) / 1e9;
        double bestLimit = probe.BytesPerPass / (stream.Min * 1e-3) / 1e9;
        sets.Add(new SetResult(set.Name, set.Parameters, set.Shapes.Count, stream, limit, bestLimit));
        double? tsAdamW = results.FirstOrDefault(r => r.Implementation == "TorchSharp" && r.Optimizer == "adamw")?.Ms.Median;
        foreach (var r in results)
        {
            double bytes = (double)r.Streams * set.Parameters * elementSize;
            double gbps = bytes / (r.Ms.Median * 1e-3) / 1e9;
            double best = bytes / (r.Ms.Min * 1e-3) / 1e9;
            steps.Add(r with { GBps = gbps, FractionOfLimit = gbps / limit, FractionOfLimitBest = best / bestLimit, SpeedupVsTorchSharpAdamW = tsAdamW / r.Ms.Median });
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

    /// <summary>Elements a step moves per parameter element: x read and written, g read, 2 per state buffer.</summary>
    internal static int StreamsOf(UpdateRule rule)
        => 3 + (rule.HasFirstMoment ? 2 : 0) + (rule.Estimator is null ? 0 : 2) + (rule.Estimator is { KeepsMax: true } ? 2 : 0);

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

    // ---- --train ----------------------------------------------------------------------------------------

    private static List<TrainResult> RunTraining(BenchSettings s, Action<string> log)
    {
        const int batch = 128;
        int batches = s.TrainBatches;
        using var scope = NewDisposeScope();
        manual_seed(7);
        var x = randn(batches * batch, 784);
        using var teacher = randn(784, 10);
        var y = x.matmul(teacher).argmax(1); // labels a linear teacher can explain, so the loss goes down
        log($"train: MLP 784-256-256-10, {batches} batches of {batch}, {s.Epochs} timed epoch(s) after {s.WarmupEpochs} warm-up, arms interleaved epoch by epoch");

        var arms = new (string Name, string Impl, Func<IEnumerable<Parameter>, torch.optim.Optimizer> Make)[]
        {
            ("adamd", "AdamFamily", p => new AdamD(p) { KernelThreads = s.Threads, NonFinitePolicy = s.Policy }),
            ("adamw", "AdamFamily", p => new AdamW(p) { KernelThreads = s.Threads, NonFinitePolicy = s.Policy }),
            ("adamw", "TorchSharp", p => torch.optim.AdamW(p, lr: 1e-3, weight_decay: 1e-2)),
        };
        // Every arm starts from the same weights and sees the same batches. Epochs are interleaved (one of
        // each arm per round), so a machine whose speed drifts affects all arms alike.
        var models = new List<Sequential>();
        var optimizers = new List<torch.optim.Optimizer>();
        try
        {
            foreach (var arm in arms)
            {
                manual_seed(42);
                var model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10));
                models.Add(model);
                optimizers.Add(arm.Make(model.parameters().ToArray()));
            }
            var epochMs = arms.Select(_ => new List<double>()).ToArray();
            var stepMs = arms.Select(_ => new List<double>()).ToArray();
            var lastLoss = new double[arms.Length];
            for (int e = 0; e < s.WarmupEpochs + s.Epochs; e++)
            {
                for (int a = 0; a < arms.Length; a++)
                {
                    var (model, opt) = (models[a], optimizers[a]);
                    double stepTotal = 0;
                    long t0 = Stopwatch.GetTimestamp();
                    for (int b = 0; b < batches; b++)
                    {
                        using var inner = NewDisposeScope();
                        var xb = x.narrow(0, b * batch, batch);
                        var yb = y.narrow(0, b * batch, batch);
                        opt.zero_grad();
                        var loss = nn.functional.cross_entropy(model.forward(xb), yb);
                        loss.backward();
                        long s0 = Stopwatch.GetTimestamp();
                        opt.step();
                        stepTotal += Stopwatch.GetElapsedTime(s0).TotalMilliseconds;
                        if (b == batches - 1) lastLoss[a] = loss.item<float>();
                    }
                    double total = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    if (e >= s.WarmupEpochs) { epochMs[a].Add(total); stepMs[a].Add(stepTotal); }
                }
            }
            var results = new List<TrainResult>();
            for (int a = 0; a < arms.Length; a++)
            {
                var epoch = Stats.Of(epochMs[a]);
                var step = Stats.Of(stepMs[a]);
                log($"  {arms[a].Name} ({arms[a].Impl}): epoch {epoch.Median:F1} ms, optimizer {step.Median:F2} ms");
                results.Add(new TrainResult(arms[a].Name, arms[a].Impl, batches, epoch, step, step.Median / epoch.Median, lastLoss[a]));
            }
            return results;
        }
        finally
        {
            foreach (var o in optimizers) o.Dispose();
            foreach (var m in models) m.Dispose();
        }
    }

    // ---- output -------------------------------------------------------------------------------------------

    private static void Print(BenchReport r)
    {
        if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 160) AnsiConsole.Profile.Width = 160; // logs and CI: no wrapping
        AnsiConsole.MarkupLine($"[bold]afm bench[/] — {r.Cores} cores, {Markup.Escape(r.Runtime)}, LibTorch {Markup.Escape(r.LibTorch)} ({r.TorchThreads} intra-op thread(s), used by TorchSharp's optimizers), " +
                               $"our kernel ≤ {r.KernelThreads} threads, policy {r.Policy}, {r.Dtype}, {r.Reps} reps after {r.Warmup} warm-up; native gradient access: {(r.NativeGradAccess ? "yes" : "no (fallback)")}");
        foreach (var set in r.Sets)
        {
            var table = new Table().Border(TableBorder.Rounded)
                .Title($"[bold]{Markup.Escape(set.Name)}[/]: {set.Tensors} tensor(s), {set.Parameters:N0} params — limit {set.LimitGBps:F1} GB/s (stream pass median {set.StreamMs.Median:F3} ms, min {set.StreamMs.Min:F3}, p90 {set.StreamMs.P90:F3})");
            foreach (var c in new[] { "optimizer", "impl", "median ms", "min ms", "p90 ms", "GB/s", "% of limit", "best %", "× TorchSharp AdamW", "managed B/step", "note" })
                table.AddColumn(new TableColumn(c));
            foreach (var x in r.Steps.Where(x => x.Set == set.Name))
            {
                bool ours = x.Implementation == "AdamFamily";
                string alloc = ours ? $"{x.AllocBytesPerStep:N0} + {x.WorkerAllocBytesPerStep ?? 0:N0}" : $"{x.AllocBytesPerStep:N0}";
                table.AddRow(ours ? $"[bold]{x.Optimizer}[/]" : x.Optimizer, ours ? "[bold]ours[/]" : "TorchSharp",
                    $"{x.Ms.Median:F3}", $"{x.Ms.Min:F3}", $"{x.Ms.P90:F3}", $"{x.GBps:F1}", $"{100 * x.FractionOfLimit:F0}%", $"{100 * x.FractionOfLimitBest:F0}%",
                    x.SpeedupVsTorchSharpAdamW is { } sp ? $"{sp:F1}×" : "-", alloc, Markup.Escape(x.Note ?? ""));
            }
            AnsiConsole.Write(table);
            if (r.Steps.FirstOrDefault(x => x.Set == set.Name && x.Implementation == "TorchSharp" && x.Optimizer == "adamw") is { } ts)
                AnsiConsole.MarkupLine($"[grey]{Markup.Escape(set.Name)}: a step at the limit would be {ts.Ms.Median / set.StreamMs.Median:F1}× faster than TorchSharp's AdamW (the ceiling for an Adam-like step here).[/]");
        }
        // The many-small-tensors comparison: per-parameter time of each ResNet set against the largest single tensor.
        var single = r.Sets.Where(x => x.Tensors == 1).OrderByDescending(x => x.Parameters).FirstOrDefault();
        foreach (var multi in r.Sets.Where(x => x.Tensors > 1))
        {
            if (single is null) break;
            foreach (var ours in r.Steps.Where(x => x.Set == multi.Name && x.Implementation == "AdamFamily"))
            {
                var one = r.Steps.FirstOrDefault(x => x.Set == single.Name && x.Optimizer == ours.Optimizer && x.Implementation == "AdamFamily");
                if (one is null) continue;
                double ratio = (ours.Ms.Median / multi.Parameters) / (one.Ms.Median / single.Parameters);
                AnsiConsole.MarkupLine($"{ours.Optimizer}: {Markup.Escape(multi.Name)} ({multi.Tensors} tensors) takes {ratio:F2}× the time per parameter of {Markup.Escape(single.Name)} (one tensor).");
            }
        }
        if (r.Train.Count > 0)
        {
            var table = new Table().Border(TableBorder.Rounded).Title("[bold]MLP 784-256-256-10, batch 128, one epoch[/]");
            foreach (var c in new[] { "optimizer", "impl", "batches", "epoch ms (median)", "epoch ms (min–max)", "optimizer ms/epoch", "optimizer share", "final loss" })
                table.AddColumn(c);
            foreach (var t in r.Train)
                table.AddRow(t.Optimizer, t.Implementation, t.Batches.ToString(), $"{t.EpochMs.Median:F1}", $"{t.EpochMs.Min:F1}–{t.EpochMs.Max:F1}",
                    $"{t.StepMs.Median:F2}", $"{100 * t.StepShare:F1}%", $"{t.FinalLoss:F4}");
            AnsiConsole.Write(table);
        }
        foreach (var n in r.Notes) AnsiConsole.MarkupLine($"[grey]note:[/] {Markup.Escape(n)}");
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    internal static string ToJson(BenchReport report) => JsonSerializer.Serialize(report, JsonOptions);

    // ---- parameter sets -------------------------------------------------------------------------------------

    /// <summary>
    /// The parameter shapes of CIFAR ResNet-18 (3×3 stem, four stages of two BasicBlocks at 64–512 channels,
    /// 1×1 projection shortcuts, 10-way linear head; convolutions without bias, BatchNorm weight and bias):
    /// 62 tensors, 11,173,962 parameters. <paramref name="widthDivisor"/> scales every width down (for smoke runs).
    /// </summary>
    internal static List<long[]> ResNet18Shapes(int widthDivisor = 1)
    {
        var shapes = new List<long[]>();
        int W(int c) => Math.Max(1, c / widthDivisor);
        void Conv(int cin, int cout, int k) => shapes.Add(new long[] { cout, cin, k, k });
        void Norm(int c) { shapes.Add(new long[] { c }); shapes.Add(new long[] { c }); }
        int inC = W(64);
        Conv(3, inC, 3); Norm(inC);
        foreach (var (planes, stride) in new[] { (64, 1), (128, 2), (256, 2), (512, 2) })
        {
            for (int b = 0; b < 2; b++)
            {
                int p = W(planes);
                int st = b == 0 ? stride : 1;
                Conv(inC, p, 3); Norm(p);
                Conv(p, p, 3); Norm(p);
                if (st != 1 || inC != p) { Conv(inC, p, 1); Norm(p); }
                inC = p;
            }
        }
        shapes.Add(new long[] { 10, inC });
        shapes.Add(new long[] { 10 });
        return shapes;
    }
}

/// <summary>A named list of parameter shapes.</summary>
internal sealed record ParameterSet(string Name, IReadOnlyList<long[]> Shapes)
{
    public long Parameters => Shapes.Sum(s => s.Aggregate(1L, (a, b) => a * b));

    public static ParameterSet Parse(string token)
    {
        var t = token.Trim().ToLowerInvariant();
        if (t == "resnet18") return new ParameterSet("resnet18", BenchCommand.ResNet18Shapes());
        if (t.StartsWith("resnet18/", StringComparison.Ordinal) && int.TryParse(t["resnet18/".Length..], out int k) && k >= 1)
            return new ParameterSet(t, BenchCommand.ResNet18Shapes(k));
        double scale = 1;
        var num = t;
        if (t.EndsWith('k')) { scale = 1e3; num = t[..^1]; }
        else if (t.EndsWith('m')) { scale = 1e6; num = t[..^1]; }
        if (!double.TryParse(num, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !(v * scale >= 1) || v * scale > int.MaxValue)
            throw new ArgumentException($"--sizes: cannot read '{token}': expected a count like 10K, 1M, 11M or 2500000 (at most {int.MaxValue:N0}), resnet18 or resnet18/K.");
        long n = (long)Math.Round(v * scale);
        return new ParameterSet(token.Trim(), new[] { new[] { n } });
    }
}

/// <summary>What to measure.</summary>
internal sealed record BenchSettings
{
    public IReadOnlyList<string> Presets { get; init; } = new[] { "adamw", "adamd" };
    public IReadOnlyList<ParameterSet> Sets { get; init; } = new[] { "1M", "11M", "resnet18" }.Select(ParameterSet.Parse).ToArray();
    public IReadOnlyList<string> Baselines { get; init; } = AllBaselines;
    public int Reps { get; init; } = 20;
    public int Warmup { get; init; } = 3;
    public int Threads { get; init; } = Environment.ProcessorCount;
    public NonFinitePolicy Policy { get; init; } = NonFinitePolicy.Throw;
    public ScalarType Dtype { get; init; } = ScalarType.Float32;
    public bool Train { get; init; }
    public int Epochs { get; init; } = 3;
    public int WarmupEpochs { get; init; } = 1;
    public int TrainBatches { get; init; } = 50;
    /// <summary>LibTorch intra-op threads to set for the run (null: leave LibTorch's default).</summary>
    public int? TorchThreads { get; init; }

    public static readonly string[] AllBaselines = { "adam", "adamw", "nadam", "radam", "adamax", "sgd" };

    /// <summary>The smoke configuration: tiny sizes (one 10K tensor and ResNet-18 at 1/16 width), 1 warm-up, 1 repetition.</summary>
    public static BenchSettings Smoke(bool train = false) => new()
    {
        Sets = new[] { "10K", "resnet18/16" }.Select(ParameterSet.Parse).ToArray(),
        Reps = 1, Warmup = 1, Train = train, Epochs = 1, WarmupEpochs = 0, TrainBatches = 3,
    };

    public static BenchSettings From(string presets, string sizes, string baselines, int reps, int warmup, int threads, string policy,
        string dtype, bool smoke, bool train, int epochs, bool explicitSizes, bool explicitReps)
    {
        var s = smoke ? Smoke(train) : new BenchSettings { Train = train };
        var presetList = Split(presets, "--presets");
        foreach (var p in presetList) global::AdamFamily.Presets.Get(p); // validates, lists the valid names
        var baseList = baselines.Trim().Equals("none", StringComparison.OrdinalIgnoreCase) ? Array.Empty<string>() : Split(baselines, "--baselines");
        foreach (var b in baseList)
            if (!AllBaselines.Contains(b)) throw new ArgumentException($"--baselines: unknown '{b}'. Valid: {string.Join(", ", AllBaselines)}, or none.");
        if (!smoke || explicitReps)
        {
            if (reps < 1) throw new ArgumentException("--reps must be ≥ 1.");
            s = s with { Reps = reps };
        }
        if (!smoke)
        {
            if (warmup < 0) throw new ArgumentException("--warmup must be ≥ 0.");
            if (epochs < 1) throw new ArgumentException("--epochs must be ≥ 1.");
            s = s with { Warmup = warmup, Epochs = epochs };
        }
        if (!smoke || explicitSizes)
            s = s with { Sets = CommaList.Parse(sizes, "--sizes").Select(ParameterSet.Parse).ToArray() };
        if (threads < 1) throw new ArgumentException("--threads must be ≥ 1.");
        var pol = policy.Trim().ToLowerInvariant() switch
        {
            "throw" => NonFinitePolicy.Throw,
            "propagate" => NonFinitePolicy.Propagate,
            "skip" => NonFinitePolicy.Skip,
            _ => throw new ArgumentException($"--policy: '{policy}' is not throw, skip or propagate."),
        };
        var dt = dtype.Trim().ToLowerInvariant() switch
        {
            "float32" or "f32" => ScalarType.Float32,
            "float64" or "f64" => ScalarType.Float64,
            _ => throw new ArgumentException($"--dtype: '{dtype}' is not float32 or float64."),
        };
        return s with { Presets = presetList, Baselines = baseList, Threads = threads, Policy = pol, Dtype = dt };
    }

    private static string[] Split(string list, string option)
        => CommaList.Parse(list, option).Select(x => x.ToLowerInvariant()).ToArray();
}

/// <summary>Median and spread of timings in milliseconds.</summary>
internal sealed record Stats(double Median, double Min, double P10, double P90, double Max, int N)
{
    public static Stats Of(IEnumerable<double> samples)
    {
        var a = samples.OrderBy(x => x).ToArray();
        if (a.Length == 0) return new Stats(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0);
        double Q(double q)
        {
            double pos = q * (a.Length - 1);
            int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
            return a[lo] + (a[hi] - a[lo]) * (pos - lo);
        }
        return new Stats(Q(0.5), a[0], Q(0.1), Q(0.9), a[^1], a.Length);
    }
}

internal sealed record SetResult(string Name, long Parameters, int Tensors, Stats StreamMs,
    [property: JsonPropertyName("limit_gb_per_s")] double LimitGBps, [property: JsonPropertyName("best_limit_gb_per_s")] double BestLimitGBps);

internal sealed record StepResult(string Set, string Optimizer, string Implementation, long Parameters, int Tensors, int Streams, Stats Ms,
    [property: JsonPropertyName("gb_per_s")] double GBps, double FractionOfLimit, double FractionOfLimitBest,
    [property: JsonPropertyName("speedup_vs_torchsharp_adamw")] double? SpeedupVsTorchSharpAdamW, double AllocBytesPerStep, double? WorkerAllocBytesPerStep, string? Note);

internal sealed record TrainResult(string Optimizer, string Implementation, int Batches, Stats EpochMs, Stats StepMs, double StepShare, double FinalLoss);

internal sealed record BenchReport(string Machine, int Cores, string Runtime, [property: JsonPropertyName("libtorch")] string LibTorch, int TorchThreads, int KernelThreads, string Policy, string Dtype,
    int Reps, int Warmup, bool NativeGradAccess, IReadOnlyList<SetResult> Sets, IReadOnlyList<StepResult> Steps, IReadOnlyList<TrainResult> Train,
    IReadOnlyList<string> Notes);
