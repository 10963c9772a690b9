using System.CommandLine;
using System.Globalization;
using AdamFamily.Lab.Execution;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Reports;
using AdamFamily.Lab.Training;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm compare</c>: a fair, seed-paired A/B(/n) comparison of optimizers on a real task, ending in a
/// verdict table. Results live in --out and a killed comparison resumes where it stopped.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var protocol = new Option<string?>("--protocol") { Description = $"A named experiment ({string.Join(", ", Protocols.All.Keys)}); other options override its settings." };
        var scale = new Option<string>("--scale") { Description = "quick (subset, fewer epochs) or full.", DefaultValueFactory = _ => "full" };
        var experiment = new Option<string?>("--experiment") { Description = "A JSON experiment file (the format of experiment.json in a results folder)." };
        var arms = new Option<string[]>("--arm") { Description = "An arm: preset:options, e.g. adamd:lr=1e-3,weight_decay=5e-4 (label=preset:options to name it). Repeatable.", AllowMultipleArgumentsPerToken = false };
        var seeds = new Option<string?>("--seeds") { Description = "Seeds: a count (3 → 0,1,2) or a list (1,5,9)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs per run." };
        var task = new Option<string?>("--task") { Description = $"Task: {string.Join(", ", TaskLoader.Tasks)}." };
        var data = new Option<string?>("--data") { Description = "Folder of the task's files (text: a file or a folder of text files)." };
        var model = new Option<string?>("--model") { Description = "Model: mlp, cnn, cnn-bn, resnet18, resnet34, vgg11, densenet121; lstm for ptb and text (their default)." };
        var batch = new Option<int?>("--batch-size") { Description = "Batch size (ptb/text: parallel token streams)." };
        var trainSubset = new Option<int?>("--train-subset") { Description = "Use the first N training records (ptb/text: tokens)." };
        var validation = new Option<int?>("--validation") { Description = "Image tasks: hold out the last N training examples as the validation split the best epoch is chosen on (default 10000 for fashion-mnist/cifar, 400 for synthetic; 0 = none)." };
        var testSubset = new Option<int?>("--test-subset") { Description = "Use the first N test records (ptb/text: tokens of valid and of test)." };
        var schedule = new Option<string?>("--schedule") { Description = "constant, multistep or cosine." };
        var milestones = new Option<string?>("--milestones") { Description = "Epochs (1-based) from which the lr is multiplied by --gamma, e.g. 9 or 150,225 (multistep)." };
        var gamma = new Option<double?>("--gamma") { Description = "Multistep factor (default 0.1)." };
        var clip = new Option<double?>("--clip") { Description = "Clip the global gradient norm to this value." };
        var augment = new Option<bool?>("--augment") { Description = "Random crop with padding and horizontal flip." };
        var baseline = new Option<string?>("--baseline") { Description = "The arm the others are compared with (default: the first)." };
        var margin = new Option<double?>("--margin") { Description = "Non-inferiority margin in percentage points, or perplexity points for ptb/text (default 0.5)." };
        var device = new Option<string?>("--device") { Description = "TorchSharp device: cpu (default) or cuda[:N] where a CUDA TorchSharp package is referenced." };
        var tensorboard = new Option<bool>("--tensorboard") { Description = "Also write TensorBoard event files under the results folder." };
        var outDir = new Option<string?>("--out") { Description = "Results folder (default runs/<protocol or compare>)." };
        var bptt = new Option<int?>("--bptt") { Description = "ptb/text: truncated-BPTT window in time steps (default 35)." };
        var layers = new Option<int?>("--layers") { Description = "ptb/text: LSTM layers (default 2)." };
        var hidden = new Option<int?>("--hidden") { Description = "ptb/text: LSTM hidden size (default 200)." };
        var embedding = new Option<int?>("--embedding") { Description = "ptb/text: word embedding size (default 200)." };
        var dropout = new Option<double?>("--dropout") { Description = "ptb/text: dropout (default 0.2)." };
        var tied = new Option<bool?>("--tied") { Description = "ptb/text: tie the decoder to the embedding (needs --embedding = --hidden)." };
        var maxVocab = new Option<int?>("--max-vocab") { Description = "text: keep the N most frequent training words, the rest become <unk> (default 10000; 0 = all)." };
        var exec = new ExecutionOptions();

        var cmd = new Command("compare", "Compare optimizers fairly: several seeds, paired arms, test accuracy with confidence intervals.")
        {
            protocol, scale, experiment, arms, seeds, epochs, task, data, model, batch, trainSubset, validation, testSubset, schedule, milestones, gamma, clip, augment, baseline, margin, device, tensorboard, outDir,
            bptt, layers, hidden, embedding, dropout, tied, maxVocab,
        };
        foreach (var o in exec.All) cmd.Options.Add(o);
        cmd.SetAction((r, cancel) => Task.Run(() =>
        {
            ExperimentSettings s;
            IUnitExecutor executor;
            int threads;
            string executorName;
            try
            {
                s = r.GetValue(experiment) is { } file
                    ? ExperimentSettings.FromJson(File.Exists(file) ? File.ReadAllText(file)
                        : throw new FileNotFoundException(Directory.Exists(file) ? $"experiment file '{file}' is a folder; give the JSON file (e.g. {Path.Combine(file, "experiment.json")})." : $"experiment file '{file}' does not exist."), file)
                    : r.GetValue(protocol) is { } p ? Protocols.Get(p, r.GetValue(scale)!) : new ExperimentSettings { Protocol = "custom" };
                if (r.GetValue(arms) is { Length: > 0 } a) s = s with { Arms = a.Select(ExperimentSettings.ParseArm).ToArray(), Baseline = null };
                if (r.GetValue(seeds) is { } sd) s = s with { Seeds = ExperimentSettings.ParseSeeds(sd) };
                if (r.GetValue(epochs) is { } e) s = s with { Epochs = e };
                if (r.GetValue(task) is { } t) s = s with { Task = t.ToLowerInvariant() };
                if (r.GetValue(data) is { } d) s = s with { DataPath = Path.GetFullPath(d) };
                if (r.GetValue(model) is { } m) s = s with { Model = m.ToLowerInvariant() };
                if (r.GetValue(batch) is { } b) s = s with { BatchSize = b };
                if (r.GetValue(trainSubset) is { } ts) s = s with { TrainSubset = ts };
                if (r.GetValue(testSubset) is { } te) s = s with { TestSubset = te };
                if (r.GetValue(validation) is { } vn) s = s with { Validation = vn };
                if (r.GetValue(schedule) is { } sc)
                {
                    var kind = sc.ToLowerInvariant();   // another kind drops a protocol's milestones rather than keeping ignored ones
                    s = s with { Schedule = s.Schedule with { Kind = kind, Milestones = kind == "multistep" ? s.Schedule.Milestones : null } };
                }
                if (r.GetValue(milestones) is { } ms)
                {
                    if (r.GetValue(schedule) is { } k && !k.Equals("multistep", StringComparison.OrdinalIgnoreCase))
                        throw new ArgumentException($"--milestones applies to --schedule multistep, not '{k}'.");
                    s = s with { Schedule = s.Schedule with { Kind = "multistep", Milestones = ScheduleSpec.ParseMilestones(ms) } };
                }
                if (r.GetValue(gamma) is { } g)
                    s = s.Schedule.Kind == "multistep" ? s with { Schedule = s.Schedule with { Gamma = g } }
                        : throw new ArgumentException($"--gamma applies to the multistep schedule, not '{s.Schedule.Kind}' (give --milestones too).");
                if (r.GetValue(clip) is { } c) s = s with { ClipGradNorm = c };
                if (r.GetValue(augment) is { } au) s = s with { Augment = au };
                if (r.GetValue(baseline) is { } bl) s = s with { Baseline = bl };
                if (r.GetValue(margin) is { } mg) s = s with { Margin = mg };
                if (r.GetValue(device) is { } dv) s = s with { Device = dv.ToLowerInvariant() };
                if (s.IsLanguageModel)
                {
                    var lm = s.Lm ?? new LanguageModelSettings();
                    if (r.GetValue(bptt) is { } bp) lm = lm with { Bptt = bp };
                    if (r.GetValue(layers) is { } ly) lm = lm with { Layers = ly };
                    if (r.GetValue(hidden) is { } hd) lm = lm with { Hidden = hd };
                    if (r.GetValue(embedding) is { } em) lm = lm with { Embedding = em };
                    if (r.GetValue(dropout) is { } dp) lm = lm with { Dropout = dp };
                    if (r.GetValue(tied) is { } td) lm = lm with { TiedWeights = td };
                    if (r.GetValue(maxVocab) is { } mv) lm = lm with { MaxVocab = mv };
                    s = s with { Lm = lm, Model = r.GetValue(model) is null ? "lstm" : s.Model };
                }
                else if (new Option[] { bptt, layers, hidden, embedding, dropout, tied, maxVocab }.FirstOrDefault(o => r.GetResult(o) is not null) is { } lmOnly)
                    throw new ArgumentException($"{lmOnly.Name} applies to the language-modelling tasks (ptb, text), not '{s.Task}'.");
                if (!TaskLoader.IsAvailable(s) && s.Task == "fashion-mnist" && r.GetValue(data) is null)
                {
                    AnsiConsole.MarkupLine("[yellow]Fashion-MNIST is not installed in /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist); using the built-in synthetic task instead.[/]");
                    s = s with { Task = "synthetic", TrainSubset = null, TestSubset = null };
                }
                s.Validate();
                if (r.GetValue(milestones) is not null && s.MilestonesPastTheRun is { Length: > 0 } past)
                    throw new ArgumentException($"--milestones: epoch {string.Join(",", past)} is past the last of the {s.Epochs} epochs: that drop would never happen (a drop applies from epoch 2 to {s.Epochs}).");
                if (s.MilestonesPastTheRun is { Length: > 0 } skipped)
                    AnsiConsole.MarkupLine($"[yellow]note: the lr drop at epoch {string.Join(",", skipped)} is past the last of the {s.Epochs} epochs and will not happen (give --milestones to move it).[/]");
                (executor, threads, executorName) = exec.Build(r, s.Arms.Length * s.Seeds.Length);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException)
            {
                return ExitCodes.Report(e);
            }

            var dir = r.GetValue(outDir) ?? Path.Combine("runs", s.Protocol == "custom" ? "compare" : s.Protocol);
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(s.Protocol)}[/]: task {Markup.Escape(s.Task)}, model {Markup.Escape(s.IsLanguageModel ? $"{s.Model} ({s.Lm})" : s.Model)}, {s.Epochs} epochs, batch {s.BatchSize}, " +
                                   $"seeds {string.Join(",", s.Seeds)}, lr schedule {Markup.Escape(s.Schedule.ToString())}; executor {Markup.Escape(executorName)}, {threads} thread(s) per run; results in {Markup.Escape(Path.GetFullPath(dir))}");
            try
            {
                var options = new RunOptions { Executor = executor, ThreadsPerRun = threads, Command = "afm " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)) };
                var validated = ComparisonRunner.Validate(s, dir, executor); // everything checked before the progress display and before any write
                var outcome = UnitProgressView.Run(validated.Settings, events => ComparisonRunner.Execute(validated, dir, options with { Events = events }, cancel));
                if (outcome.Execution is { Waited: false, JobId: { } job })
                {
                    AnsiConsole.MarkupLine($"Slurm job [bold]{job}[/] submitted ({outcome.Missing.Count} units). Follow it with `afm status {Markup.Escape(outcome.Dir)}`; `afm summarize {Markup.Escape(outcome.Dir)}` when it is done (or rerun this command: it waits and summarises).");
                    Console.WriteLine(job);
                    return 0;
                }
                if (outcome.Summary is null) return UnitProgressView.ReportFailures(outcome);
                ComparisonTable.Write(outcome.Summary, dir);
                return ReportCommand.Render(dir, r.GetValue(tensorboard));
            }
            catch (OperationCanceledException e)
            {
                AnsiConsole.MarkupLine($"[yellow]interrupted:[/] {Markup.Escape(e.Message)} Finished units are kept; rerun the same command to resume.");
                return 130;
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException)
            {
                return e is InvalidOperationException ? ExitCodes.ReportAsBadInput(e) : ExitCodes.Report(e);
            }
        }, CancellationToken.None));
        return cmd;
    }

}

/// <summary>The verdict table on screen (the cells of <see cref="VerdictTable"/>, coloured).</summary>
internal static class ComparisonTable
{
    public static void Write(ComparisonSummary summary, string dir, string? title = null)
    {
        var s = summary.Settings;
        var table = new Table().Border(TableBorder.Rounded)
            .Title(title ?? $"[bold]{Markup.Escape(s.Protocol)}[/]: final {Markup.Escape(s.MetricName)} over {s.Seeds.Length} seeds (baseline [bold]{Markup.Escape(s.BaselineArm)}[/])");
        foreach (var c in VerdictTable.Header(summary)) table.AddColumn(Markup.Escape(c));
        foreach (var row in VerdictTable.Rows(summary))
        {
            var cells = row.Select(Markup.Escape).ToArray();
            string v = row[VerdictTable.VerdictColumn], ni = row[VerdictTable.NonInferiorColumn];
            cells[VerdictTable.VerdictColumn] = v == "better" ? "[green]better[/]" : v == "worse" || v.StartsWith("not better") ? $"[red]{Markup.Escape(v)}[/]" : v == "baseline" ? "[grey]baseline[/]" : cells[VerdictTable.VerdictColumn];
            cells[VerdictTable.NonInferiorColumn] = ni == "yes" ? "[green]yes[/]" : ni.StartsWith("no") && !ni.StartsWith("non") ? $"[red]{Markup.Escape(ni)}[/]" : cells[VerdictTable.NonInferiorColumn];
            table.AddRow(cells);
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape(VerdictTable.Footnote(summary)));
        AnsiConsole.MarkupLine($"Files: {Markup.Escape(Path.Combine(dir, "summary.json"))}, summary.csv, runs/*.jsonl");
    }
}
