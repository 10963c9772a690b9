using System.Text.Json.Serialization;

namespace AdamFamily.Lab.Training;

/// <summary>What one epoch of one run measured. Accuracies are in percent.</summary>
public sealed record EpochMetrics(
    int Epoch, double TrainLoss, double TrainAccuracy, double TestLoss, double TestAccuracy,
    double LearningRate, double WeightNorm, double Stationarity, double Seconds, double OptimizerSeconds, bool Diverged);

/// <summary>A finished run: one arm, one seed, its epochs; a diverged run stops at the epoch its loss became non-finite.</summary>
public sealed record RunResult(string Arm, int Seed, IReadOnlyList<EpochMetrics> Epochs)
{
    [JsonIgnore] public bool Diverged => Epochs.Any(e => e.Diverged);
    [JsonIgnore] public int? DivergedAtEpoch => Epochs.FirstOrDefault(e => e.Diverged)?.Epoch;
    /// <summary>Test accuracy after the last epoch (NaN for a diverged run).</summary>
    [JsonIgnore] public double FinalTestAccuracy => Diverged || Epochs.Count == 0 ? double.NaN : Epochs[^1].TestAccuracy;
    /// <summary>Best test accuracy over the epochs before any divergence.</summary>
    [JsonIgnore] public double BestTestAccuracy => Epochs.Where(e => !e.Diverged).Select(e => e.TestAccuracy).DefaultIfEmpty(double.NaN).Max();
    [JsonIgnore] public double MeanEpochSeconds => Epochs.Count == 0 ? double.NaN : Epochs.Average(e => e.Seconds);
    [JsonIgnore] public double OptimizerShare => Epochs.Sum(e => e.Seconds) is var t and > 0 ? Epochs.Sum(e => e.OptimizerSeconds) / t : double.NaN;
}

/// <summary>Progress of a run, reported after every batch.</summary>
public readonly record struct RunProgress(string Arm, int Seed, int Epoch, int Epochs, int Batch, int Batches);
