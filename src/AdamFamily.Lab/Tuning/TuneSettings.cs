using System.Text.Json;
using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Tuning;

/// <summary>
/// Everything that defines a tuning study, stored as DIR/tune-settings.json (a restart with other settings is
/// refused). <see cref="Experiment"/> holds the task, model, training length, the arms with their base specs, the
/// baseline, the margin and the K final seeds; every arm gets the same <see cref="Trials"/> in each of the
/// <see cref="Studies"/> studies. Trial t of study s trains with seed <see cref="TuningSeed"/>(s, t), which is never
/// one of the final seeds.
/// </summary>
public sealed record TuneSettings
{
    public ExperimentSettings Experiment { get; init; } = new();
    /// <summary>Trials per arm per study.</summary>
    public int Trials { get; init; } = 8;
    /// <summary>Independent studies (each its own Halton scrambling and tuning seeds).</summary>
    public int Studies { get; init; } = 1;
    /// <summary>Seed of the Halton scrambling; study s uses a seed derived from (this, s).</summary>
    public long SearchSeed { get; init; }
    /// <summary>The search space of every arm, by arm label.</summary>
    public Dictionary<string, SearchSpace> Spaces { get; init; } = new();

    /// <summary>The most trials (studies × trials) per arm: each is a training run, and the plan holds them all.</summary>
    public const int MaxTrialsPerArm = 10_000;

    /// <summary>First tuning seed; trial t of study s uses TuningSeedBase + s·Trials + t.</summary>
    public const int TuningSeedBase = 100_000;

    public int TuningSeed(int study, int trial) => TuningSeedBase + study * Trials + trial;

    public string ToJson() => JsonSerializer.Serialize(this, LabFiles.Json);

    public static TuneSettings FromJson(string json, string source)
    {
        try { return JsonSerializer.Deserialize<TuneSettings>(json, LabFiles.Json) ?? throw new InvalidDataException($"{source}: empty tuning settings."); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid tuning settings: {e.Message}", e); }
    }

    /// <summary>Checks everything before anything is written; errors name the setting and the value.</summary>
    public void Validate()
    {
        Experiment.Validate();
        if (Trials < 1) throw new ArgumentOutOfRangeException("trials", Trials, $"--trials {Trials}: must be ≥ 1.");
        if (Studies < 1) throw new ArgumentOutOfRangeException("studies", Studies, $"--studies {Studies}: must be ≥ 1.");
        if ((long)Trials * Studies > MaxTrialsPerArm)
            throw new ArgumentOutOfRangeException("trials", Trials, $"--trials {Trials} × --studies {Studies} = {(long)Trials * Studies} trials per arm; at most {MaxTrialsPerArm} (each trial is a training run).");
        if (!Experiment.IsLanguageModel && Experiment.ValidationCount == 0)
            throw new ArgumentException("tuning selects on validation data: --validation must be > 0 for image tasks.", "validation");
        foreach (var a in Experiment.Arms)
        {
            if (!Spaces.TryGetValue(a.Name, out var space)) throw new ArgumentException($"arm '{a.Name}' has no search space.", "space");
            space.Validate(a.Name, a.Optimizer);
            if (space.Dimensions.Count > 12) throw new ArgumentException($"arm '{a.Name}': at most 12 tuned keys.", "space");
        }
        var unknown = Spaces.Keys.Except(Experiment.Arms.Select(a => a.Name)).FirstOrDefault();
        if (unknown is not null) throw new ArgumentException($"--space names arm '{unknown}', which is not one of the arms ({string.Join(", ", Experiment.Arms.Select(a => a.Name))}).", "space");
        long maxTuningSeed = TuningSeed(Studies - 1, Trials - 1);
        var clash = Experiment.Seeds.FirstOrDefault(s => s >= TuningSeedBase && s <= maxTuningSeed, -1);
        if (clash >= 0) throw new ArgumentException($"final seed {clash} is also a tuning seed ({TuningSeedBase}…{maxTuningSeed}); the final seeds must be fresh.", "seeds");
    }
}
