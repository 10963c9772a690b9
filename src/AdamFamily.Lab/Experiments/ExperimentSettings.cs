using System.Text.Json;
using System.Text.Json.Serialization;

namespace AdamFamily.Lab.Experiments;

/// <summary>One arm of a comparison: a label and an optimizer spec ("adamd:lr=1e-3,weight_decay=5e-4").</summary>
public sealed record ArmSpec(string Name, string Optimizer);

/// <summary>The learning-rate schedule of a run, stepped once per epoch through TorchSharp's schedulers.</summary>
public sealed record ScheduleSpec(string Kind = "constant", int[]? Milestones = null, double Gamma = 0.1)
{
    public static readonly ScheduleSpec Constant = new();
    public override string ToString() => Kind switch
    {
        "multistep" => $"×{Gamma} at epochs {string.Join(",", (Milestones ?? Array.Empty<int>()).Select(m => m + 1))}",
        "cosine" => "cosine to 0",
        _ => "constant",
    };

    /// <summary>
    /// Parses a --milestones value: 1-based epochs from which the lr is multiplied ("9" or "150,225"), returned as
    /// 0-based epoch indices. Errors name the option and the value; the range against the run's epochs is checked
    /// by <see cref="ExperimentSettings.Validate"/>.
    /// </summary>
    public static int[] ParseMilestones(string text, string option = "--milestones")
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || parts.Any(p => p.Length == 0))
            throw new ArgumentException($"{option}: '{text}' is not a list of epochs (e.g. 9 or 150,225).", option);
        return parts.Select(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var e) && e >= 1
                ? e - 1
                : throw new ArgumentException($"{option}: '{p}' is not an epoch (a whole number from 2 to the number of epochs; 1-based)." +
                                              (parts.Length > 1 ? $" In '{text}'." : ""), option))
            .ToArray();
    }
}

/// <summary>
/// Everything that defines a comparison. Stored in the results folder as experiment.json; a restart with
/// different settings is refused. Epoch milestones are 0-based epoch indices at which the lr is multiplied.
/// </summary>
public sealed record ExperimentSettings
{
    public string Protocol { get; init; } = "custom";
    /// <summary>fashion-mnist, synthetic, cifar10, cifar100, or the language-modelling tasks ptb and text.</summary>
    public string Task { get; init; } = "synthetic";
    public string? DataPath { get; init; }
    public string Model { get; init; } = "mlp";
    public int Epochs { get; init; } = 3;
    public int BatchSize { get; init; } = 128;
    public int[] Seeds { get; init; } = { 0, 1, 2 };
    /// <summary>Use only the first N training / test records (null = all).</summary>
    public int? TrainSubset { get; init; }
    public int? TestSubset { get; init; }
    /// <summary>
    /// Image tasks: hold out the LAST N training examples as the validation split that selection (best epoch,
    /// tuning) uses instead of test; training uses the examples before them (and <see cref="TrainSubset"/> the first of
    /// those). Null = <see cref="DefaultValidationFor"/>; 0 = no validation split. Language models use the corpus's valid split.
    /// </summary>
    public int? Validation { get; init; }
    public bool Augment { get; init; }
    public int CropPadding { get; init; } = 4;
    public ScheduleSpec Schedule { get; init; } = ScheduleSpec.Constant;
    /// <summary>Clip the global gradient norm to this value (null = no clipping).</summary>
    public double? ClipGradNorm { get; init; }
    /// <summary>The TorchSharp device every model, batch and optimizer state lives on ("cpu", "cuda", "cuda:1").</summary>
    public string Device { get; init; } = "cpu";
    public ArmSpec[] Arms { get; init; } = Array.Empty<ArmSpec>();
    /// <summary>The LSTM language model and its data (tasks ptb and text; null = <see cref="LanguageModelSettings.Default"/>).</summary>
    public LanguageModelSettings? Lm { get; init; }
    /// <summary>The arm the others are compared with (default: the first).</summary>
    public string? Baseline { get; init; }
    /// <summary>Non-inferiority margin in the metric's units (percentage points of accuracy; perplexity points).</summary>
    public double Margin { get; init; } = 0.5;

    /// <summary>
    /// The metric the task declared (<see cref="Tasks.TrainingTask.Metric"/>), recorded when the experiment is prepared
    /// (<see cref="ComparisonRunner.Prepare"/>) so that everything read later from the results folder — verdicts, tables,
    /// plots, reports — judges by the task's own direction and worst value. Null before the task was loaded.
    /// </summary>
    public Tasks.TaskMetric? Metric { get; init; }

    /// <summary>A task of the user's own from a .NET assembly (task <c>plugin</c>; null for every other task).</summary>
    public PluginSettings? Plugin { get; init; }

    /// <summary>The files the task read, with size and SHA-256 (<see cref="Tasks.TrainingTask.InputFiles"/>; null when it names none).</summary>
    public FileFingerprint[]? Files { get; init; }

    /// <summary>What the task's validation split is (recorded with <see cref="Metric"/>; null when it has none).</summary>
    public string? ValidationSplit { get; init; }

    /// <summary>Language-modelling tasks (plain text or Penn Treebank): the LSTM model and its settings (<see cref="Lm"/>) apply.</summary>
    [JsonIgnore] public bool IsLanguageModel => Task is "ptb" or "text";

    /// <summary>
    /// <see cref="Metric"/> once the task declared it; before that, the built-in kinds' metric with an unknown worst value
    /// (perplexity for the language-modelling tasks, accuracy otherwise), for what is shown before the data is loaded.
    /// </summary>
    [JsonIgnore] public Tasks.TaskMetric DeclaredMetric => Metric ?? (IsLanguageModel
        ? Tasks.TaskMetric.Perplexity(2) with { Worst = double.NaN, WorstMeaning = "the uniform model's perplexity, the vocabulary size" }
        : Tasks.TaskMetric.Accuracy(1) with { Worst = double.NaN, WorstMeaning = "chance accuracy, 100/classes" });

    /// <summary>"test accuracy (%)", "test perplexity", "test RMSE": the judged metric on the test split.</summary>
    [JsonIgnore] public string MetricName => DeclaredMetric.On("test");
    [JsonIgnore] public bool HigherIsBetter => DeclaredMetric.HigherIsBetter;
    /// <summary>The unit of <see cref="Margin"/>: percentage points of accuracy, perplexity points, the metric's unit.</summary>
    [JsonIgnore] public string MarginUnit => DeclaredMetric.MarginUnitOrUnit;

    /// <summary>The default validation hold-out: 10 000 for Fashion-MNIST and CIFAR (as big as their test sets), 400 (a fifth) for the 2 000-image synthetic task.</summary>
    public static int DefaultValidationFor(string task) => task switch { "synthetic" => 400, "ptb" or "text" => 0, _ => 10_000 };

    /// <summary>The validation hold-out this experiment uses (<see cref="Validation"/> or the task's default).</summary>
    [JsonIgnore] public int ValidationCount => IsLanguageModel ? 0 : Validation ?? DefaultValidationFor(Task);

    [JsonIgnore] public string BaselineArm => Baseline ?? Arms.FirstOrDefault()?.Name ?? "";

    public string ToJson() => JsonSerializer.Serialize(this, LabFiles.Json);

    /// <summary>
    /// Reads an experiment file strictly: an unknown key (a typo), a null where a value is required, or broken
    /// JSON throws <see cref="InvalidDataException"/> naming <paramref name="source"/> and the key.
    /// </summary>
    public static ExperimentSettings FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<ExperimentSettings>(json, LabFiles.StrictRead)
                   ?? throw new InvalidDataException($"'{source}': empty experiment (the file holds null).");
        }
        catch (JsonException e)
        {
            var where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path}";
            throw new InvalidDataException($"'{source}': not a valid experiment file{where}: {JsonProblem(e)}", e);
        }
    }

    // System.Text.Json's messages name .NET types; say what is wrong in the file's own terms.
    private static string JsonProblem(JsonException e)
    {
        var m = e.Message;
        var key = System.Text.RegularExpressions.Regex.Match(m, "'([^']+)'");
        if (m.Contains("uplicate", StringComparison.Ordinal))
            return $"a key is given twice{(key.Success ? $" ('{key.Groups[1].Value}')" : "")}; the last would silently win — keep one.";
        if (m.Contains("could not be mapped to any .NET member", StringComparison.Ordinal) && key.Success)
            return $"unknown key '{key.Groups[1].Value}' (a typo? the keys are those afm writes in experiment.json).";
        if (m.Contains("doesn't allow setting null", StringComparison.Ordinal) || m.Contains("doesn't allow null", StringComparison.Ordinal))
            return $"{(key.Success ? $"'{JsonNamingPolicy.SnakeCaseLower.ConvertName(key.Groups[1].Value)}'" : "a value")} cannot be null; give a value or leave the key out for the default.";
        if (m.Contains("missing required properties", StringComparison.Ordinal))
            return "a required key is missing: " + m[(m.IndexOf("including:", StringComparison.Ordinal) is var i and >= 0 ? i + 10 : 0)..].Trim().TrimEnd('.') + ".";
        if (m.Contains("could not be converted to", StringComparison.Ordinal))
            return $"a value of the wrong type ({System.Text.RegularExpressions.Regex.Replace(m.Split(". Path:")[0], @"System\.|AdamFamily\.Lab\.Experiments\.", "")}).";
        return m;
    }

    /// <summary>The most seeds (runs per arm) a comparison may have.</summary>
    public const int MaxSeeds = 1000;

    /// <summary>Parses a --seeds value: a count ("3" → 0, 1, 2) or a list of non-negative seeds ("1,5,9").</summary>
    public static int[] ParseSeeds(string text, string option = "--seeds")
    {
        var t = text.Trim();
        if (!t.Contains(','))
        {
            if (!int.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < 1 || n > MaxSeeds)
                throw new ArgumentException($"{option}: '{text}' is neither a count of seeds from 1 to {MaxSeeds} nor a list of seeds (e.g. 1,5,9).", option);
            return Enumerable.Range(0, n).ToArray();
        }
        var parts = t.Split(',', StringSplitOptions.TrimEntries);
        return parts.Select(x => x.Length > 0 && int.TryParse(x, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
                : throw new ArgumentException($"{option}: '{x}' in '{text}' is not a seed (a whole number ≥ 0).", option))
            .ToArray();
    }

    /// <summary>
    /// Checks every setting, whoever set it (command line, experiment file, protocol); throws
    /// <see cref="ArgumentException"/> naming the setting and the value. Nothing is read or written here, so a
    /// caller can validate before it claims a results folder.
    /// </summary>
    public void Validate()
    {
        if (Arms is null || Arms.Length == 0) throw new ArgumentException("no arms: give at least one --arm (e.g. --arm adamd:lr=1e-3).", "arms");
        if (Arms.Any(a => a is null)) throw new ArgumentException("arms: an arm is null; every arm needs a name and an optimizer.", "arms");
        foreach (var a in Arms)
        {
            if (string.IsNullOrWhiteSpace(a.Name)) throw new ArgumentException($"arm '{a.Optimizer}': empty label (write label=preset:options, e.g. fast=adamd:lr=1e-2).", "arms");
            if (string.IsNullOrWhiteSpace(a.Optimizer)) throw new ArgumentException($"arm '{a.Name}': no optimizer (write label=preset:options, e.g. {a.Name}=adamd:lr=1e-3).", "arms");
        }
        var dup = Arms.GroupBy(a => a.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"arm name '{dup.Key}' is used twice; name arms as label=preset:options.", "arms");
        if (!Arms.Any(a => a.Name == BaselineArm)) throw new ArgumentException($"baseline '{Baseline}' is not one of the arms ({string.Join(", ", Arms.Select(a => a.Name))}).", "baseline");
        if (Task is null || !TaskLoader.Tasks.Contains(Task)) throw new ArgumentException($"task '{Task}': expected one of {string.Join(", ", TaskLoader.Tasks)}.", "task");
        if ((Task == PluginSettings.TaskName) != (Plugin is not null))
            throw new ArgumentException(Plugin is null ? $"task '{Task}' needs --task-assembly PATH.dll and --task-type FULL.TYPE.NAME." : $"--task-assembly applies to task '{PluginSettings.TaskName}', not '{Task}'; drop --task, or the assembly.", "task-assembly");
        Plugin?.Validate();
        if ((Task == PluginSettings.TaskName) != (Model == PluginSettings.OwnModel))
            throw new ArgumentException(Plugin is not null ? $"model '{Model}': a plugin task builds its own model; drop --model." : $"model '{PluginSettings.OwnModel}' is for plugin tasks (--task-assembly).", "model");
        if (Model is null || !(Model == "lstm" || Model == PluginSettings.OwnModel || Models.ModelFactory.Names.Contains(Model)))
            throw new ArgumentException($"model '{Model}': expected one of {string.Join(", ", Models.ModelFactory.Names)} (images) or lstm (ptb, text).", "model");
        if (DataPath is not null && DataPath.Trim().Length == 0) throw new ArgumentException("data: an empty path; leave it out for the task's default.", "data");
        if (DataPath is not null && Task == "synthetic")
            throw new ArgumentException($"data '{DataPath}': the synthetic task is built in and reads no files, so the path would be ignored; drop --data or give --task.", "data");
        if (Epochs is < 1 or > MaxEpochs) throw new ArgumentOutOfRangeException("epochs", Epochs, $"epochs = {Epochs}: must be from 1 to {MaxEpochs}.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException("batch_size", BatchSize, $"batch_size = {BatchSize}: must be ≥ 1.");
        if (Seeds is null || Seeds.Length == 0) throw new ArgumentException("no seeds.", "seeds");
        if (Seeds.Length > MaxSeeds) throw new ArgumentException($"seeds: {Seeds.Length} seeds; at most {MaxSeeds}.", "seeds");
        if (Seeds.FirstOrDefault(x => x < 0) is var neg and < 0) throw new ArgumentOutOfRangeException("seeds", neg, $"seed {neg}: seeds must be ≥ 0.");
        if (Seeds.Distinct().Count() != Seeds.Length) throw new ArgumentException($"seeds repeat: {string.Join(",", Seeds)}.", "seeds");
        if (!(Margin >= 0 && double.IsFinite(Margin))) throw new ArgumentOutOfRangeException("margin", Margin, $"margin = {Num(Margin)}: must be a finite number ≥ 0 ({MarginUnit}).");
        if (Metric is not null) Metric.Check("metric");
        if (DeclaredMetric.MarginLimit is { } limit && Margin >= limit)   // e.g. accuracy lives in [0, 100] %: such a margin makes every arm non-inferior
            throw new ArgumentOutOfRangeException("margin", Margin, $"margin = {Num(Margin)} {MarginUnit}: {DeclaredMetric.Name} is bounded, so a margin must be below {Num(limit)} {MarginUnit}.");
        if (TrainSubset is < 1) throw new ArgumentOutOfRangeException("train_subset", TrainSubset, $"train_subset = {TrainSubset}: must be ≥ 1.");
        if (Validation is < 0) throw new ArgumentOutOfRangeException("validation", Validation, $"validation = {Validation}: must be ≥ 0 (0 = no validation split).");
        if (Validation is not null && IsLanguageModel) throw new ArgumentException($"validation applies to the image tasks; task '{Task}' uses its corpus's valid split.", "validation");
        if (TestSubset is < 1) throw new ArgumentOutOfRangeException("test_subset", TestSubset, $"test_subset = {TestSubset}: must be ≥ 1.");
        if (CropPadding is < 0 or > 64) throw new ArgumentOutOfRangeException("crop_padding", CropPadding, $"crop_padding = {CropPadding}: must be from 0 to 64 pixels.");
        ValidateSchedule();
        if (ClipGradNorm is { } clip && !(clip > 0 && double.IsFinite(clip))) throw new ArgumentOutOfRangeException("clip_grad_norm", clip, $"clip_grad_norm (--clip) = {Num(clip)}: must be a finite number > 0.");
        if (IsLanguageModel != (Model == "lstm"))
            throw new ArgumentException(IsLanguageModel ? $"task '{Task}' trains the LSTM language model: model must be lstm, not '{Model}'." : $"model lstm is for the language-modelling tasks (ptb, text), not '{Task}'.", "model");
        if (IsLanguageModel) (Lm ?? LanguageModelSettings.Default).Validate();
        else if (Lm is not null) throw new ArgumentException($"lm: the language-model settings apply to the tasks ptb and text, not '{Task}'.", "lm");
        if (IsLanguageModel && Augment) throw new ArgumentException($"augment: random crop and flip apply to image tasks, not '{Task}'.", "augment");
        if (Device is null || Device.Trim().Length == 0) throw new ArgumentException("device: empty; expected cpu, cuda or cuda:N.", "device");
        try { _ = new TorchSharp.torch.Device(Device); }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException) { throw new ArgumentException($"device '{Device}' is not a TorchSharp device (cpu, cuda, cuda:N).", "device", e); }
        if (Device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) && !TorchSharp.torch.cuda.is_available())
            throw new ArgumentException($"device '{Device}': CUDA is not available (this build references the CPU TorchSharp package, or no GPU is present).", "device");
        foreach (var a in Arms) ArmGrammar.Check(a);
    }

    /// <summary>The most epochs a run may have (a guard against a typo of a few extra digits).</summary>
    public const int MaxEpochs = 100_000;

    private void ValidateSchedule()
    {
        if (Schedule is null) throw new ArgumentException("schedule: null; expected {\"kind\": \"constant\"} or a multistep / cosine schedule.", "schedule");
        if (Schedule.Kind is not ("constant" or "multistep" or "cosine")) throw new ArgumentException($"schedule '{Schedule.Kind}': expected constant, multistep or cosine.", "schedule");
        if (!(Schedule.Gamma > 0 && double.IsFinite(Schedule.Gamma)))
            throw new ArgumentOutOfRangeException("gamma", Schedule.Gamma, $"gamma (--gamma) = {Num(Schedule.Gamma)}: must be a finite number > 0 (0.1 divides the lr by 10).");
        var ms = Schedule.Milestones ?? Array.Empty<int>();
        if (Schedule.Kind != "multistep")
        {
            if (ms.Length > 0) throw new ArgumentException($"milestones apply to the multistep schedule, not '{Schedule.Kind}'.", "milestones");
            return;
        }
        if (ms.Length == 0) throw new ArgumentException("schedule multistep needs milestones (--milestones 9 or 150,225).", "milestones");
        // Milestones are 0-based epoch indices; the scheduler steps after each epoch, so index 0 never takes effect.
        // A milestone at or past the last epoch is allowed here (a protocol run with fewer --epochs keeps its
        // schedule); the command line refuses one the user typed (see MilestonesPastTheRun).
        foreach (var m in ms)
            if (m < 1 || m > MaxEpochs)
                throw new ArgumentOutOfRangeException("milestones", m,
                    $"milestones: epoch {(long)m + 1} (1-based; {m} 0-based) cannot take effect: a drop applies from epoch 2 on " +
                    "(the first epoch always runs at the initial lr; give --milestones 2 or later, or --schedule constant).");
        for (int i = 1; i < ms.Length; i++)
            if (ms[i] <= ms[i - 1])
                throw new ArgumentException($"milestones {string.Join(",", ms.Select(m => m + 1))} (1-based): must increase strictly.", "milestones");
    }

    /// <summary>Multistep milestones (1-based) at or past the last epoch: they never take effect in this run.</summary>
    [JsonIgnore] public int[] MilestonesPastTheRun => Schedule is { Kind: "multistep", Milestones: { } ms } ? ms.Where(m => m >= Epochs).Select(m => m + 1).ToArray() : Array.Empty<int>();

    private static string Num(double x) => x.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Parses an --arm value: "adamd:lr=1e-3" (label adamd) or "my-label=adamd:lr=1e-3".</summary>
    public static ArmSpec ParseArm(string text)
    {
        var t = text.Trim();
        int colon = t.IndexOf(':'), eq = t.IndexOf('=');
        if (eq > 0 && (colon < 0 || eq < colon)) return new ArmSpec(t[..eq].Trim(), t[(eq + 1)..].Trim());
        var name = (colon < 0 ? t : t[..colon]).Trim().ToLowerInvariant();
        return new ArmSpec(name, t);
    }
}
