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

    /// <summary>Language-modelling tasks (plain text or Penn Treebank) are judged by perplexity, image tasks by accuracy.</summary>
    [JsonIgnore] public bool IsLanguageModel => Task is "ptb" or "text";
    [JsonIgnore] public string MetricName => IsLanguageModel ? "test perplexity" : "test accuracy (%)";
    [JsonIgnore] public bool HigherIsBetter => !IsLanguageModel;
    /// <summary>The unit of <see cref="Margin"/>: percentage points of accuracy, or perplexity points.</summary>
    [JsonIgnore] public string MarginUnit => IsLanguageModel ? "ppl" : "pp";

    /// <summary>The default validation hold-out: 10 000 for Fashion-MNIST and CIFAR (as big as their test sets), 400 (a fifth) for the 2 000-image synthetic task.</summary>
    public static int DefaultValidationFor(string task) => task switch { "synthetic" => 400, "ptb" or "text" => 0, _ => 10_000 };

    /// <summary>The validation hold-out this experiment uses (<see cref="Validation"/> or the task's default).</summary>
    [JsonIgnore] public int ValidationCount => IsLanguageModel ? 0 : Validation ?? DefaultValidationFor(Task);

    [JsonIgnore] public string BaselineArm => Baseline ?? Arms.FirstOrDefault()?.Name ?? "";

    public string ToJson() => JsonSerializer.Serialize(this, LabFiles.Json);

    public static ExperimentSettings FromJson(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<ExperimentSettings>(json, LabFiles.Json)
                   ?? throw new InvalidDataException($"{source}: empty experiment.");
        }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not a valid experiment file: {e.Message}", e); }
    }

    /// <summary>Checks the settings; throws <see cref="ArgumentException"/> naming the setting and the value.</summary>
    public void Validate()
    {
        if (Arms.Length == 0) throw new ArgumentException("no arms: give at least one --arm (e.g. --arm adamd:lr=1e-3).", "arms");
        var dup = Arms.GroupBy(a => a.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"arm name '{dup.Key}' is used twice; name arms as label=preset:options.", "arms");
        if (!Arms.Any(a => a.Name == BaselineArm)) throw new ArgumentException($"baseline '{Baseline}' is not one of the arms ({string.Join(", ", Arms.Select(a => a.Name))}).", "baseline");
        if (Epochs < 1) throw new ArgumentOutOfRangeException("epochs", Epochs, $"epochs = {Epochs}: must be ≥ 1.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException("batch_size", BatchSize, $"batch_size = {BatchSize}: must be ≥ 1.");
        if (Seeds.Length == 0) throw new ArgumentException("no seeds.", "seeds");
        if (Seeds.Distinct().Count() != Seeds.Length) throw new ArgumentException($"seeds repeat: {string.Join(",", Seeds)}.", "seeds");
        if (Margin < 0) throw new ArgumentOutOfRangeException("margin", Margin, $"margin = {Margin}: must be ≥ 0.");
        if (TrainSubset is < 1) throw new ArgumentOutOfRangeException("train_subset", TrainSubset, "train_subset must be ≥ 1.");
        if (Validation is < 0) throw new ArgumentOutOfRangeException("validation", Validation, $"validation = {Validation}: must be ≥ 0 (0 = no validation split).");
        if (Validation is not null && IsLanguageModel) throw new ArgumentException($"validation applies to the image tasks; task '{Task}' uses its corpus's valid split.", "validation");
        if (TestSubset is < 1) throw new ArgumentOutOfRangeException("test_subset", TestSubset, "test_subset must be ≥ 1.");
        if (Schedule.Kind is not ("constant" or "multistep" or "cosine")) throw new ArgumentException($"schedule '{Schedule.Kind}': expected constant, multistep or cosine.", "schedule");
        if (ClipGradNorm is <= 0) throw new ArgumentOutOfRangeException("clip_grad_norm", ClipGradNorm, "clip_grad_norm must be > 0.");
        if (IsLanguageModel != (Model == "lstm"))
            throw new ArgumentException(IsLanguageModel ? $"task '{Task}' trains the LSTM language model: model must be lstm, not '{Model}'." : $"model lstm is for the language-modelling tasks (ptb, text), not '{Task}'.", "model");
        if (IsLanguageModel) (Lm ?? LanguageModelSettings.Default).Validate();
        try { _ = new TorchSharp.torch.Device(Device); }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException) { throw new ArgumentException($"device '{Device}' is not a TorchSharp device (cpu, cuda, cuda:N).", "device", e); }
        if (Device.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) && !TorchSharp.torch.cuda.is_available())
            throw new ArgumentException($"device '{Device}': CUDA is not available (this build references the CPU TorchSharp package, or no GPU is present).", "device");
        foreach (var a in Arms)
        {
            try { Optimizers.ParseArm(a.Optimizer); }
            catch (ArgumentException e) { throw new ArgumentException($"arm '{a.Name}': {e.Message}", "arms", e); }
        }
    }

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
