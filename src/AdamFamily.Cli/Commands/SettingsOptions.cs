using System.CommandLine;
using AdamFamily.Lab;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// The experiment options every command that trains a task shares (compare, and tune): where the settings start
/// (--protocol, --experiment) and what overrides them (task, data, model, training, arms, seeds, verdict). Declared and
/// applied here once; <see cref="SettingsOptions(bool)"/> words the few whose meaning differs under tune.
/// </summary>
internal sealed class SettingsOptions
{
    public readonly Option<string?> Protocol;
    public readonly Option<string> Scale = new("--scale") { Description = "quick (subset, fewer epochs) or full.", DefaultValueFactory = _ => "full" };
    public readonly Option<string?> Experiment = new("--experiment") { Description = "A JSON experiment file (the format of experiment.json in a results folder)." };
    public readonly Option<string[]> Arms;
    public readonly Option<string?> Seeds;
    public readonly Option<int?> Epochs;
    public readonly Option<string?> Task = new("--task") { Description = $"Task: {string.Join(", ", TaskLoader.Tasks)}." };
    public readonly Option<string?> TaskAssembly = new("--task-assembly") { Description = "A task of your own: the .NET DLL holding a class that derives from AdamFamily.Lab.Tasks.TrainingTask (implies --task plugin; see docs/own-task.md)." };
    public readonly Option<string?> TaskType = new("--task-type") { Description = "With --task-assembly: the task class's full name (namespace and class)." };
    public readonly Option<string[]> TaskOptions = new("--task-option") { Description = "With --task-assembly: key=value handed to the task's constructor (TaskContext.Options). Repeatable.", AllowMultipleArgumentsPerToken = false };
    public readonly Option<string?> Data = new("--data") { Description = "Folder of the task's files (text: a file or a folder of text files)." };
    public readonly Option<string?> Model = new("--model") { Description = "Model: mlp, cnn, cnn-bn, resnet18, resnet34, vgg11, densenet121; lstm for ptb and text (their default)." };
    public readonly Option<int?> Batch = new("--batch-size") { Description = "Batch size (ptb/text: parallel token streams)." };
    public readonly Option<int?> TrainSubset = new("--train-subset") { Description = "Use the first N training records (ptb/text: tokens)." };
    public readonly Option<int?> Validation;
    public readonly Option<int?> TestSubset = new("--test-subset") { Description = "Use the first N test records (ptb/text: tokens of valid and of test)." };
    public readonly Option<string?> Schedule = new("--schedule") { Description = "constant, multistep or cosine." };
    public readonly Option<string?> Milestones = new("--milestones") { Description = "Epochs (1-based) from which the lr is multiplied by --gamma, e.g. 9 or 150,225 (multistep)." };
    public readonly Option<double?> Gamma = new("--gamma") { Description = "Multistep factor (default 0.1)." };
    public readonly Option<double?> Clip = new("--clip") { Description = "Clip the global gradient norm to this value." };
    public readonly Option<bool?> Augment = new("--augment") { Description = "Random crop with padding and horizontal flip." };
    public readonly Option<string?> Baseline = new("--baseline") { Description = "The arm the others are compared with (default: the first)." };
    public readonly Option<double?> Margin = new("--margin") { Description = "Non-inferiority margin in percentage points, or perplexity points for ptb/text (default 0.5)." };
    public readonly Option<string?> Device = new("--device") { Description = "TorchSharp device: cpu (default) or cuda[:N] where a CUDA TorchSharp package is referenced." };
    public readonly Option<int?> Bptt = new("--bptt") { Description = "ptb/text: truncated-BPTT window in time steps (default 35)." };
    public readonly Option<int?> Layers = new("--layers") { Description = "ptb/text: LSTM layers (default 2)." };
    public readonly Option<int?> Hidden = new("--hidden") { Description = "ptb/text: LSTM hidden size (default 200)." };
    public readonly Option<int?> Embedding = new("--embedding") { Description = "ptb/text: word embedding size (default 200)." };
    public readonly Option<double?> Dropout = new("--dropout") { Description = "ptb/text: dropout (default 0.2)." };
    public readonly Option<bool?> Tied = new("--tied") { Description = "ptb/text: tie the decoder to the embedding (needs --embedding = --hidden)." };
    public readonly Option<int?> MaxVocab = new("--max-vocab") { Description = "text: keep the N most frequent training words, the rest become <unk> (default 10000; 0 = all)." };

    private readonly string _defaultProtocol;

    /// <param name="tune">Word the options for afm tune: the arms are the base specs the search spaces centre on, the seeds are the final seeds.</param>
    public SettingsOptions(bool tune)
    {
        _defaultProtocol = tune ? "tune" : "custom";
        Protocol = new("--protocol")
        {
            Description = $"A named experiment ({string.Join(", ", Protocols.All.Keys)}){(tune ? ": its task, model, training and arms" : "")}; other options override its settings.",
        };
        Arms = new("--arm")
        {
            Description = "An arm: preset:options, e.g. adamd:lr=1e-3,weight_decay=5e-4 (label=preset:options to name it)" +
                          (tune ? "; its lr centres the default lr range." : ".") + " Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        Seeds = new("--seeds") { Description = tune ? "Final seeds for the selected points: a count (3 → 0,1,2) or a list (1,5,9)." : "Seeds: a count (3 → 0,1,2) or a list (1,5,9)." };
        Epochs = new("--epochs") { Description = tune ? "Epochs per run (trials and final runs)." : "Epochs per run." };
        Validation = new("--validation")
        {
            Description = "Image tasks: hold out the last N training examples as the validation split " +
                          (tune ? "trials are scored on" : "the best epoch is chosen on") + " (default 10000 for fashion-mnist/cifar, 400 for synthetic; 0 = none).",
        };
    }

    /// <summary>The validator of a command's --out: an empty path is refused, naming the option (not .NET's "The value cannot be an empty string").</summary>
    public static void NotEmptyPath(System.CommandLine.Parsing.OptionResult result)
    {
        if (result.Tokens.Count > 0 && string.IsNullOrWhiteSpace(result.Tokens[^1].Value))
            result.AddError($"{result.Option.Name}: an empty path; give a folder.");
    }

    public IEnumerable<Option> All => new Option[]
    {
        Protocol, Scale, Experiment, Arms, Seeds, Epochs, Task, TaskAssembly, TaskType, TaskOptions, Data, Model, Batch, TrainSubset, Validation, TestSubset, Schedule, Milestones, Gamma, Clip, Augment,
        Baseline, Margin, Device, Bptt, Layers, Hidden, Embedding, Dropout, Tied, MaxVocab,
    };

    private IEnumerable<Option> LanguageModelOnly => new Option[] { Bptt, Layers, Hidden, Embedding, Dropout, Tied, MaxVocab };

    private ExperimentSettings ApplyPlugin(ParseResult r, ExperimentSettings s)
    {
        var options = r.GetValue(TaskOptions) ?? [];
        if (r.GetValue(TaskAssembly) is not { } dll)
        {
            if (r.GetValue(TaskType) is not null || options.Length > 0)
                throw new ArgumentException($"{(r.GetValue(TaskType) is not null ? "--task-type" : "--task-option")} applies to a task of your own: give --task-assembly PATH.dll too.");
            return s;
        }
        if (r.GetValue(TaskType) is not { } type || string.IsNullOrWhiteSpace(type))
            throw new ArgumentException($"--task-assembly '{dll}': give --task-type FULL.TYPE.NAME (the task class in it, with its namespace).");
        if (r.GetValue(Task) is { } t && t != PluginSettings.TaskName)
            throw new ArgumentException($"--task {t} and --task-assembly both name the task; give one.");
        if (r.GetValue(Model) is { } m)
            throw new ArgumentException($"--model {m}: a task of your own (--task-assembly) builds its own model; drop --model.");
        if (string.IsNullOrWhiteSpace(dll)) throw new ArgumentException("--task-assembly: an empty path; give the DLL.");
        if (Directory.Exists(dll)) throw new ArgumentException($"--task-assembly '{dll}' is a folder; give the DLL in it (e.g. bin/Release/net10.0/NAME.dll).");
        if (!File.Exists(dll)) throw new FileNotFoundException($"--task-assembly '{dll}' does not exist.");
        FileKinds.RequireRegularFile(dll, "--task-assembly");
        var plugin = new PluginSettings(FileFingerprint.Of(dll), type.Trim(), PluginSettings.ParseOptions(options));
        return s with { Task = PluginSettings.TaskName, Model = PluginSettings.OwnModel, Plugin = plugin, Lm = null };
    }

    /// <summary>
    /// The settings the command line asks for: --experiment's file or --protocol's settings (or the defaults), every
    /// given option applied over them, Fashion-MNIST replaced by the synthetic task when it is not installed (and no
    /// --data is given), validated, milestones past the run refused when given and noted when from a protocol.
    /// <see cref="ArgumentException"/>, <see cref="FormatException"/>, <see cref="IOException"/> or
    /// <see cref="InvalidDataException"/> name the option or file at fault.
    /// </summary>
    public ExperimentSettings Build(ParseResult r)
    {
        // Options that would be silently ignored: --scale picks a protocol's scale; --experiment replaces the protocol.
        if (r.GetResult(Scale) is { Implicit: false } && r.GetValue(Protocol) is null)
            throw new ArgumentException($"--scale {r.GetValue(Scale)} applies to --protocol, which is not given; add --protocol or drop --scale.");
        if (r.GetValue(Experiment) is not null && r.GetValue(Protocol) is { } both)
            throw new ArgumentException($"--protocol {both} and --experiment both give the whole settings; give one (the file's settings would win, silently).");
        var s = r.GetValue(Experiment) is { } file
            ? ExperimentSettings.FromJson(File.Exists(file) ? File.ReadAllText(file)
                : throw new FileNotFoundException(Directory.Exists(file) ? $"experiment file '{file}' is a folder; give the JSON file (e.g. {Path.Combine(file, "experiment.json")})." : $"experiment file '{file}' does not exist."), file)
            : r.GetValue(Protocol) is { } p ? Protocols.Get(p, r.GetValue(Scale)!) : new ExperimentSettings { Protocol = _defaultProtocol };
        if (r.GetValue(Arms) is { Length: > 0 } a) s = s with { Arms = a.Select(ExperimentSettings.ParseArm).ToArray(), Baseline = null };
        if (r.GetValue(Seeds) is { } sd) s = s with { Seeds = ExperimentSettings.ParseSeeds(sd) };
        if (r.GetValue(Epochs) is { } e) s = s with { Epochs = e };
        if (r.GetValue(Task) is { } t) s = s with { Task = t.ToLowerInvariant() };
        s = ApplyPlugin(r, s);
        if (r.GetValue(Data) is { } d) s = s with { DataPath = Path.GetFullPath(d) };
        if (r.GetValue(Model) is { } m) s = s with { Model = m.ToLowerInvariant() };
        if (r.GetValue(Batch) is { } b) s = s with { BatchSize = b };
        if (r.GetValue(TrainSubset) is { } ts) s = s with { TrainSubset = ts };
        if (r.GetValue(TestSubset) is { } te) s = s with { TestSubset = te };
        if (r.GetValue(Validation) is { } vn) s = s with { Validation = vn };
        if (r.GetValue(Schedule) is { } sc)
        {
            var kind = sc.ToLowerInvariant();   // another kind drops a protocol's milestones rather than keeping ignored ones
            s = s with { Schedule = s.Schedule with { Kind = kind, Milestones = kind == "multistep" ? s.Schedule.Milestones : null } };
        }
        if (r.GetValue(Milestones) is { } ms)
        {
            if (r.GetValue(Schedule) is { } k && !k.Equals("multistep", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--milestones applies to --schedule multistep, not '{k}'.");
            s = s with { Schedule = s.Schedule with { Kind = "multistep", Milestones = ScheduleSpec.ParseMilestones(ms) } };
        }
        if (r.GetValue(Gamma) is { } g)
            s = s.Schedule.Kind == "multistep" ? s with { Schedule = s.Schedule with { Gamma = g } }
                : throw new ArgumentException($"--gamma applies to the multistep schedule, not '{s.Schedule.Kind}' (give --milestones too).");
        if (r.GetValue(Clip) is { } c) s = s with { ClipGradNorm = c };
        if (r.GetValue(Augment) is { } au) s = s with { Augment = au };
        if (r.GetValue(Baseline) is { } bl) s = s with { Baseline = bl };
        if (r.GetValue(Margin) is { } mg) s = s with { Margin = mg };
        if (r.GetValue(Device) is { } dv) s = s with { Device = dv.ToLowerInvariant() };
        if (s.IsLanguageModel)
        {
            var lm = s.Lm ?? new LanguageModelSettings();
            if (r.GetValue(Bptt) is { } bp) lm = lm with { Bptt = bp };
            if (r.GetValue(Layers) is { } ly) lm = lm with { Layers = ly };
            if (r.GetValue(Hidden) is { } hd) lm = lm with { Hidden = hd };
            if (r.GetValue(Embedding) is { } em) lm = lm with { Embedding = em };
            if (r.GetValue(Dropout) is { } dp) lm = lm with { Dropout = dp };
            if (r.GetValue(Tied) is { } td) lm = lm with { TiedWeights = td };
            if (r.GetValue(MaxVocab) is { } mv) lm = lm with { MaxVocab = mv };
            s = s with { Lm = lm, Model = r.GetValue(Model) is null ? "lstm" : s.Model };
        }
        else if (LanguageModelOnly.FirstOrDefault(o => r.GetResult(o) is not null) is { } lmOnly)
            throw new ArgumentException($"{lmOnly.Name} applies to the language-modelling tasks (ptb, text), not '{s.Task}'.");
        if (!TaskLoader.IsAvailable(s) && s.Task == "fashion-mnist" && s.DataPath is null)   // a data path (flag or file) is never swapped for synthetic data
        {
            AnsiConsole.MarkupLine("[yellow]Fashion-MNIST is not installed in /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist); using the built-in synthetic task instead.[/]");
            // The protocol's subsets and validation hold-out are Fashion-MNIST's; the synthetic task takes its own (an explicit --validation stays).
            s = s with { Task = "synthetic", TrainSubset = null, TestSubset = null, Validation = r.GetValue(Validation) };
        }
        s.Validate();
        if (r.GetValue(Milestones) is not null && s.MilestonesPastTheRun is { Length: > 0 } past)
            throw new ArgumentException($"--milestones: epoch {string.Join(",", past)} is past the last of the {s.Epochs} epochs: that drop would never happen (a drop applies from epoch 2 to {s.Epochs}).");
        if (s.MilestonesPastTheRun is { Length: > 0 } skipped)
            AnsiConsole.MarkupLine($"[yellow]note: the lr drop at epoch {string.Join(",", skipped)} is past the last of the {s.Epochs} epochs and will not happen (give --milestones to move it).[/]");
        return s;
    }
}
