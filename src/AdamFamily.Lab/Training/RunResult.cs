using System.Text.Json.Serialization;

namespace AdamFamily.Lab.Training;

/// <summary>
/// What one epoch of one run measured. The metric is the task's (<see cref="Experiments.ExperimentSettings.MetricName"/>):
/// accuracy in percent for image classification, perplexity for language modelling. ValidMetric is NaN
/// for tasks without a validation split.
/// </summary>
public sealed record EpochMetrics(
    int Epoch, double TrainLoss, double TrainMetric, double TestLoss, double TestMetric,
    double LearningRate, double WeightNorm, double Stationarity, double Seconds, double OptimizerSeconds, bool Diverged,
    double ValidMetric = double.NaN);

/// <summary>Why a run stopped with an error (e.g. the optimizer's stability refusal), and the epoch in progress when it did (1-based).</summary>
public sealed record RunFailure(string Reason, int Epoch);

/// <summary>
/// A finished run: one arm, one seed, its epochs; a diverged run stops at the epoch its loss became non-finite; a failed
/// run (<see cref="Failure"/>) stopped with an error and keeps the epochs it completed.
/// </summary>
public sealed record RunResult(string Arm, int Seed, IReadOnlyList<EpochMetrics> Epochs)
{
    /// <summary>Set when the run stopped with an error; the comparison keeps the run (it is not dropped).</summary>
    public RunFailure? Failure { get; init; }
    [JsonIgnore] public bool Failed => Failure is not null;
    [JsonIgnore] public bool Diverged => Epochs.Any(e => e.Diverged);
    [JsonIgnore] public int? DivergedAtEpoch => Epochs.FirstOrDefault(e => e.Diverged)?.Epoch;
    /// <summary>The test metric after the last epoch (NaN for a diverged or failed run).</summary>
    [JsonIgnore] public double FinalTestMetric => Diverged || Failed || Epochs.Count == 0 ? double.NaN : Epochs[^1].TestMetric;
    /// <summary>The best test metric over the epochs before any divergence (highest or lowest as the metric prefers).</summary>
    public double BestTestMetric(bool higherIsBetter)
    {
        var values = Epochs.Where(e => !e.Diverged).Select(e => e.TestMetric).ToList();
        return values.Count == 0 ? double.NaN : higherIsBetter ? values.Max() : values.Min();
    }
    [JsonIgnore] public double MeanEpochSeconds => Epochs.Count == 0 ? double.NaN : Epochs.Average(e => e.Seconds);
    [JsonIgnore] public double OptimizerShare => Epochs.Sum(e => e.Seconds) is var t and > 0 ? Epochs.Sum(e => e.OptimizerSeconds) / t : double.NaN;
}

/// <summary>Progress of a run, reported after every batch.</summary>
public readonly record struct RunProgress(string Arm, int Seed, int Epoch, int Epochs, int Batch, int Batches);
