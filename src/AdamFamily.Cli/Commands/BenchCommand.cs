using System.CommandLine;
using AdamFamily.Lab.Benchmarks;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm bench</c>: the command line of the lab's step benchmark (<see cref="StepBenchmark"/>, <see cref="TrainBenchmark"/>):
/// parses the options, runs it, prints the tables and writes the JSON report. The measurements live in the lab.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var presets = new Option<string>("--presets") { Description = "Our presets to time, comma-separated.", DefaultValueFactory = _ => "adamw,adamd" };
        var precisions = new Option<string>("--state-precisions")
        {
            Description = "State precisions to time each preset with (state_precision), comma-separated: float32, bfloat16, int8.",
            DefaultValueFactory = _ => "float32,bfloat16,int8",
        };
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
            presets, precisions, sizes, baselines, reps, warmup, threads, policy, dtype, json, smoke, train, epochs, torchThreads,
        };
        cmd.SetAction(r =>
        {
            // A bad option throws; ExitCodes.Run reports it (exit 2).
            var settings = BenchSettings.From(
                r.GetValue(presets)!, r.GetValue(precisions)!, r.GetValue(sizes)!, r.GetValue(baselines)!, r.GetValue(reps), r.GetValue(warmup),
                r.GetValue(threads), r.GetValue(policy)!, r.GetValue(dtype)!, r.GetValue(smoke), r.GetValue(train), r.GetValue(epochs),
                explicitSizes: r.GetResult(sizes) is { Implicit: false }, explicitReps: r.GetResult(reps) is { Implicit: false });
            if (r.GetValue(torchThreads) is { } tt)
                settings = settings with { TorchThreads = AdamFamily.Lab.Execution.UnitRunner.CheckThreads(tt, "--torch-threads") };
            if (r.GetResult(epochs) is { Implicit: false } && !r.GetValue(train))
                throw new ArgumentException($"--epochs applies to --train (timed training epochs), which is not given; add --train or drop --epochs.");
            if (r.GetValue(json) is { } jsonPath) AdamFamily.Lab.LabFiles.CheckWritableFile(jsonPath, "--json");   // before minutes of timing, not after
            var report = StepBenchmark.Run(settings, line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
            Print(report);
            if (r.GetValue(json) is { } file)
            {
                report.WriteJson(file);
                AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(file)}[/]");
            }
            return 0;
        });
        return cmd;
    }

    private static void Print(BenchReport r)
    {
        if (Console.IsOutputRedirected && AnsiConsole.Profile.Width < 160) AnsiConsole.Profile.Width = 160; // logs and CI: no wrapping
        AnsiConsole.MarkupLine($"[bold]afm bench[/] — {r.Cores} cores, {Markup.Escape(r.Runtime)}, LibTorch {Markup.Escape(r.LibTorch)} ({r.TorchThreads} intra-op thread(s), used by TorchSharp's optimizers), " +
                               $"our kernel ≤ {r.KernelThreads} threads, policy {r.Policy}, {r.Dtype}, {r.Reps} reps after {r.Warmup} warm-up; native gradient access: {(r.NativeGradAccess ? "yes" : "no (fallback)")}");
        foreach (var set in r.Sets)
        {
            var table = new Table().Border(TableBorder.Rounded)
                .Title($"[bold]{Markup.Escape(set.Name)}[/]: {set.Tensors} tensor(s), {set.Parameters:N0} params — limit {set.LimitGBps:F1} GB/s (stream pass median {set.StreamMs.Median:F3} ms, min {set.StreamMs.Min:F3}, p90 {set.StreamMs.P90:F3})");
            foreach (var c in new[] { "optimizer", "impl", "state", "state B/param", "median ms", "min ms", "p90 ms", "× f32 state", "B/param", "GB/s", "% of limit", "best %", "× TorchSharp AdamW", "managed B/step", "note" })
                table.AddColumn(new TableColumn(c));
            foreach (var x in r.Steps.Where(x => x.Set == set.Name))
            {
                bool ours = x.Implementation == "AdamFamily";
                string alloc = ours ? $"{x.AllocBytesPerStep:N0} + {x.WorkerAllocBytesPerStep ?? 0:N0}" : $"{x.AllocBytesPerStep:N0}";
                table.AddRow(ours ? $"[bold]{x.Optimizer}[/]" : x.Optimizer, ours ? "[bold]ours[/]" : "TorchSharp", x.StatePrecision, $"{x.StateBytesPerParameter:0.##}",
                    $"{x.Ms.Median:F3}", $"{x.Ms.Min:F3}", $"{x.Ms.P90:F3}", x.VsFloat32State is { } vf ? $"{vf:F2}×" : "-", $"{x.BytesPerParameter:0.##}", $"{x.GBps:F1}", $"{100 * x.FractionOfLimit:F0}%", $"{100 * x.FractionOfLimitBest:F0}%",
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
                var one = r.Steps.FirstOrDefault(x => x.Set == single.Name && x.Optimizer == ours.Optimizer && x.StatePrecision == ours.StatePrecision && x.Implementation == "AdamFamily");
                if (one is null) continue;
                double ratio = (ours.Ms.Median / multi.Parameters) / (one.Ms.Median / single.Parameters);
                AnsiConsole.MarkupLine($"{ours.Optimizer} ({ours.StatePrecision} state): {Markup.Escape(multi.Name)} ({multi.Tensors} tensors) takes {ratio:F2}× the time per parameter of {Markup.Escape(single.Name)} (one tensor).");
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
}
