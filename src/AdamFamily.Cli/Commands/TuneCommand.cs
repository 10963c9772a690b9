using System.CommandLine;
using System.Text.Json;
using AdamFamily.Lab;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Reports;
using AdamFamily.Lab.Tuning;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm tune</c>: an equal tuning budget per arm (scrambled-Halton trials scored on validation), then the
/// selected point of every arm rerun with fresh seeds and judged on test like <c>afm compare</c>.
/// </summary>
internal static class TuneCommand
{
    public static Command Create()
    {
        var protocol = new Option<string?>("--protocol") { Description = $"A named experiment ({string.Join(", ", Protocols.All.Keys)}): its task, model, training and arms." };
        var scale = new Option<string>("--scale") { Description = "quick or full.", DefaultValueFactory = _ => "full" };
        var arms = new Option<string[]>("--arm") { Description = "An arm: preset[:options] (label=preset:options to name it); its lr centres the default lr range. Repeatable." };
        var trials = new Option<int>("--trials") { Description = "Trials per arm per study (the same for every arm).", DefaultValueFactory = _ => 8 };
        var studies = new Option<int>("--studies") { Description = "Independent studies (AlgoPerf uses 3 × 5 trials).", DefaultValueFactory = _ => 1 };
        var seeds = new Option<string?>("--seeds") { Description = "Final seeds for the selected points: a count (3 → 0,1,2) or a list." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs per run (trials and final runs)." };
        var task = new Option<string?>("--task") { Description = $"Task: {string.Join(", ", TaskLoader.Tasks)}." };
        var data = new Option<string?>("--data") { Description = "Folder of the task's files." };
        var model = new Option<string?>("--model") { Description = "Model (as afm compare)." };
        var batch = new Option<int?>("--batch-size") { Description = "Batch size." };
        var trainSubset = new Option<int?>("--train-subset") { Description = "Use the first N training records." };
        var testSubset = new Option<int?>("--test-subset") { Description = "Use the first N test records." };
        var validation = new Option<int?>("--validation") { Description = "Image tasks: the last N training examples are the validation split trials are scored on (default 10000; synthetic 400)." };
        var baseline = new Option<string?>("--baseline") { Description = "The arm the others are compared with (default: the first)." };
        var margin = new Option<double?>("--margin") { Description = "Non-inferiority margin (percentage points; perplexity points for ptb/text)." };
        var device = new Option<string?>("--device") { Description = "TorchSharp device." };
        var space = new Option<string[]>("--space") { Description = "Override an arm's space: ARM:key=low..high[:log|:lin],… e.g. adamw:lr=1e-4..1e-2,weight_decay=1e-3..1. Repeatable." };
        var spaceFile = new Option<string?>("--space-file") { Description = "JSON file {\"ARM\": [{\"key\": \"lr\", \"low\": 1e-4, \"high\": 1e-2, \"log\": true}, …], …} overriding spaces." };
        var searchSeed = new Option<long>("--search-seed") { Description = "Seed of the Halton scrambling.", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string?>("--out") { Description = "Results folder (default runs/tune-<protocol or task>)." };
        var cmd = new Command("tune", "Tune every arm with the same budget on validation data, then compare the selected points on fresh seeds.")
        {
            protocol, scale, arms, trials, studies, seeds, epochs, task, data, model, batch, trainSubset, testSubset, validation, baseline, margin, device, space, spaceFile, searchSeed, outDir,
        };
        cmd.SetAction(r =>
        {
            TuneSettings settings;
            try
            {
                var s = r.GetValue(protocol) is { } p ? Protocols.Get(p, r.GetValue(scale)!) : new ExperimentSettings { Protocol = "tune" };
                if (r.GetValue(task) is { } t) s = s with { Task = t.ToLowerInvariant(), Model = s.Protocol == "tune" && t is "ptb" or "text" ? "lstm" : s.Model };
                if (r.GetValue(arms) is { Length: > 0 } a) s = s with { Arms = a.Select(ExperimentSettings.ParseArm).ToArray(), Baseline = null };
                if (r.GetValue(seeds) is { } sd) s = s with { Seeds = ParseSeeds(sd) };
                if (r.GetValue(epochs) is { } e) s = s with { Epochs = e };
                if (r.GetValue(data) is { } d) s = s with { DataPath = d };
                if (r.GetValue(model) is { } m) s = s with { Model = m.ToLowerInvariant() };
                if (r.GetValue(batch) is { } b) s = s with { BatchSize = b };
                if (r.GetValue(trainSubset) is { } ts) s = s with { TrainSubset = ts };
                if (r.GetValue(testSubset) is { } te) s = s with { TestSubset = te };
                if (r.GetValue(validation) is { } vn) s = s with { Validation = vn };
                if (r.GetValue(baseline) is { } bl) s = s with { Baseline = bl };
                if (r.GetValue(margin) is { } mg) s = s with { Margin = mg };
                if (r.GetValue(device) is { } dv) s = s with { Device = dv.ToLowerInvariant() };
                if (!TaskLoader.IsAvailable(s) && s.Task == "fashion-mnist" && r.GetValue(data) is null)
                {
                    AnsiConsole.MarkupLine("[yellow]Fashion-MNIST is not installed in /usr/share/datasets/fashion-mnist; using the built-in synthetic task instead.[/]");
                    s = s with { Task = "synthetic", TrainSubset = null, TestSubset = null, Validation = null };
                }
                s.Validate();
                var spaces = s.Arms.ToDictionary(x => x.Name, x => SearchSpace.Default(x.Optimizer));
                if (r.GetValue(spaceFile) is { } file)
                {
                    foreach (var (arm, dims) in SpaceFile.Read(file))   // strict: unknown fields, nulls, repeats are errors
                    {
                        if (!spaces.ContainsKey(arm)) throw new ArgumentException($"--space-file '{file}' names arm '{arm}', which is not one of the arms ({string.Join(", ", spaces.Keys)}).");
                        spaces[arm] = spaces[arm].With(dims);
                    }
                }
                foreach (var o in r.GetValue(space) ?? Array.Empty<string>())
                {
                    var (arm, dims) = SearchSpace.ParseOverride(o);
                    if (!spaces.ContainsKey(arm)) throw new ArgumentException($"--space '{o}': '{arm}' is not one of the arms ({string.Join(", ", spaces.Keys)}).");
                    spaces[arm] = spaces[arm].With(dims);
                }
                settings = new TuneSettings { Experiment = s, Trials = r.GetValue(trials), Studies = r.GetValue(studies), SearchSeed = r.GetValue(searchSeed), Spaces = spaces };
                settings.Validate();
            }
            catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException)
            {
                return ExitCodes.ReportAsBadInput(e);
            }

            var ex = settings.Experiment;
            var dir = r.GetValue(outDir) ?? Path.Combine("runs", "tune-" + (ex.Protocol is "tune" or "custom" ? ex.Task : ex.Protocol));
            AnsiConsole.MarkupLine($"[bold]tune[/]: task {Markup.Escape(ex.Task)}, model {Markup.Escape(ex.Model)}, {ex.Epochs} epochs; {settings.Studies} × {settings.Trials} trials per arm, " +
                                   $"then final seeds {string.Join(",", ex.Seeds)}; results in {Markup.Escape(Path.GetFullPath(dir))}");
            foreach (var (arm, sp) in settings.Spaces) AnsiConsole.MarkupLine($"  {Markup.Escape(arm)}: {Markup.Escape(sp.ToString())}");
            try
            {
                var (tune, summary) = TuneRunner.Run(settings, dir, unitDone: (u, reused, outcome) =>
                    AnsiConsole.MarkupLine($"{Markup.Escape(u.ToString())}: {Markup.Escape(outcome)}{(reused ? " [grey](reused)[/]" : "")}"));
                var table = new Table().Border(TableBorder.Rounded).Title("[bold]selected on validation[/]");
                foreach (var c in new[] { "arm", "selected hyper-parameters", tune.Metric, "diverged trials" }) table.AddColumn(Markup.Escape(c));
                foreach (var a in tune.Arms)
                    table.AddRow(Markup.Escape(a.Arm), Markup.Escape(string.Join(", ", a.Selected.HyperParameters.Select(kv => $"{kv.Key}={HyperParameters.F(kv.Value)}"))),
                        VerdictTable.N(a.Selected.ValidationMetric), $"{a.Trials.Count(x => x.Diverged)}/{a.Trials.Count}");
                AnsiConsole.Write(table);
                foreach (var w in tune.Arms.SelectMany(a => a.EdgeWarnings)) AnsiConsole.MarkupLine($"[yellow]warning:[/] {Markup.Escape(w)}");
                ComparisonTable.Write(summary, dir, $"[bold]tuned[/]: final {Markup.Escape(ex.MetricName)} over {ex.Seeds.Length} fresh seeds (baseline [bold]{Markup.Escape(ex.BaselineArm)}[/])");
                return ReportCommand.Render(dir, tensorboard: false);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or InvalidDataException)
            {
                return ExitCodes.ReportAsBadInput(e);
            }
        });
        return cmd;
    }

    private static int[] ParseSeeds(string text)
    {
        if (!text.Contains(',') && int.TryParse(text, out var n))
            return n >= 1 ? Enumerable.Range(0, n).ToArray() : throw new ArgumentException($"--seeds {text}: need at least one seed.");
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(x => int.TryParse(x.Trim(), out var v) ? v : throw new ArgumentException($"--seeds: '{x}' is not an integer.")).ToArray();
    }
}
