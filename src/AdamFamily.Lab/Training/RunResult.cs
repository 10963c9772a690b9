using System.Text.Json.Serialization;

namespace AdamFamily.Lab.Training;

/// <summary>
/// What one epoch of one run measured. The metric is the task's (<see cref="Experiments.ExperimentSettings.MetricName"/>):
/// accuracy in percent for image classification, perplexity for language modelling. ValidMetric is the same
/// metric on the validation split (held-out training examples, or the corpus's valid file); NaN without one.
/// </summary>
public sealed record EpochMetrics(
    int Epoch, double TrainLoss, double TrainMetric, double TestLoss, double TestMetric,
    double LearningRate, double WeightNorm, double Stationarity, double Seconds, double OptimizerSeconds, bool Diverged,
    double ValidMetric = double.NaN);

/// <summary>Why a run stopped with an error (e.g. the optimizer's stability refusal), and the epoch in progress when it did (1-based).</summary>
public sealed record RunFailure(string Reason, int Epoch);

/// <summary>
/// A finished run: one arm, one seed, its epochs; a diverged run stops at the epoch its loss became non-finite; a failed
/// run (<see cref="Failure"/>) stopped with an error and keeps the epochs it completed. <see cref="WorstMetric"/> is the
/// value a diverged or failed run counts as in a comparison: chance accuracy (100/classes %) for classification, the
/// uniform model's perplexity (the vocabulary size) for language modelling.
/// </summary>
public sealed record RunResult(string Arm, int Seed, IReadOnlyList<EpochMetrics> Epochs, double WorstMetric = double.NaN)
{
    /// <summary>Set when the run stopped with an error; the comparison keeps the run (it is not dropped).</summary>
    public RunFailure? Failure { get; init; }
    [JsonIgnore] public bool Failed => Failure is not null;
    [JsonIgnore] public bool Diverged => Epochs.Any(e => e.Diverged);
    [JsonIgnore] public int? DivergedAtEpoch => Epochs.FirstOrDefault(e => e.Diverged)?.Epoch;
    /// <summary>The test metric after the last epoch (NaN for a diverged or failed run).</summary>
    [JsonIgnore] public double FinalTestMetric => Diverged || Failed || Epochs.Count == 0 ? double.NaN : Epochs[^1].TestMetric;

    /// <summary>
    /// The epoch (1-based) with the best validation metric among the epochs before any divergence; the earliest
    /// on ties; null without validation values or for a diverged or failed run. Selection never looks at the test metric.
    /// </summary>
    public int? SelectedEpoch(bool higherIsBetter)
    {
        if (Diverged || Failed) return null;
        EpochMetrics? best = null;
        foreach (var e in Epochs)
        {
            if (!double.IsFinite(e.ValidMetric)) continue;
            if (best is null || (higherIsBetter ? e.ValidMetric > best.ValidMetric : e.ValidMetric < best.ValidMetric)) best = e;
        }
        return best?.Epoch;
    }

    /// <summary>The test metric at the validation-selected epoch (NaN when there is none).</summary>
    public double SelectedTestMetric(bool higherIsBetter)
        => SelectedEpoch(higherIsBetter) is { } ep ? Epochs.First(e => e.Epoch == ep).TestMetric : double.NaN;

    /// <summary>The best validation metric (what tuning scores a trial by); NaN when there is none.</summary>
    public double BestValidMetric(bool higherIsBetter)
        => SelectedEpoch(higherIsBetter) is { } ep ? Epochs.First(e => e.Epoch == ep).ValidMetric : double.NaN;

    [JsonIgnore] public double MeanEpochSeconds => Epochs.Count == 0 ? double.NaN : Epochs.Average(e => e.Seconds);
    [JsonIgnore] public double OptimizerShare => Epochs.Sum(e => e.Seconds) is var t and > 0 ? Epochs.Sum(e => e.OptimizerSeconds) / t : double.NaN;
}

/// <summary>Progress of a run, reported after every batch.</summary>
public readonly record struct RunProgress(string Arm, int Seed, int Epoch, int Epochs, int Batch, int Batches);
