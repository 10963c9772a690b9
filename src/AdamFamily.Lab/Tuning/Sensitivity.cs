namespace AdamFamily.Lab.Tuning;

/// <summary>
/// How wide the near-best region of one arm is, measured from its trials: the trials whose validation metric lies
/// within <see cref="Tolerance"/> of the arm's best trial, the share of all trials they are, and what that share is in
/// the arm's search space. Trials are the points of a scrambled Halton sequence, evenly spread over the unit cube
/// of the space (each dimension on its own scale: log-uniform ones in decades), so the share of trials estimates the
/// share of the space's volume that lies within the tolerance, and <see cref="Area"/> = share × <see cref="SpaceVolume"/>
/// estimates the region's size in the space's units (decades² for log lr × log weight decay). The estimate moves in
/// steps of 1/<see cref="Trials"/>, and the best trial is always in the region.
/// </summary>
/// <param name="Arm">The arm's label.</param>
/// <param name="Best">The best validation metric of its trials.</param>
/// <param name="Tolerance">How far from the best a trial may be and still count (the metric's units: pp of accuracy).</param>
/// <param name="Trials">All trials of the arm (every study), diverged ones included.</param>
/// <param name="Within">Trials within the tolerance (never a diverged one).</param>
/// <param name="SpaceVolume">The search space's volume: the product over dimensions of the width in decades (log) or in the key's units (uniform).</param>
/// <param name="Spans">Per dimension, the extent of the trials within the tolerance: max − min in decades (log) or in units (uniform).</param>
public sealed record NearBestRegion(string Arm, double Best, double Tolerance, int Trials, int Within, double SpaceVolume, IReadOnlyDictionary<string, double> Spans)
{
    /// <summary>The share of trials within the tolerance, Within / Trials.</summary>
    public double Share => Trials == 0 ? double.NaN : (double)Within / Trials;

    /// <summary>The estimated size of the region within the tolerance: <see cref="Share"/> × <see cref="SpaceVolume"/>.</summary>
    public double Area => Share * SpaceVolume;
}

/// <summary>Computes <see cref="NearBestRegion"/> from a tuning record.</summary>
public static class Sensitivity
{
    /// <summary>The default tolerance: 0.5 percentage points of accuracy, the default non-inferiority margin.</summary>
    public const double DefaultTolerance = 0.5;

    /// <summary>The near-best region of every arm of <paramref name="tune"/>.</summary>
    public static IReadOnlyList<NearBestRegion> Of(TuneResult tune, double tolerance = DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(tune);
        return tune.Arms.Select(a => Of(a, tune.HigherIsBetter, tolerance)).ToList();
    }

    /// <summary>The near-best region of one arm: its trials within <paramref name="tolerance"/> of its best trial.</summary>
    public static NearBestRegion Of(TuneArmResult arm, bool higherIsBetter, double tolerance = DefaultTolerance)
    {
        ArgumentNullException.ThrowIfNull(arm);
        if (!(tolerance >= 0) || double.IsInfinity(tolerance)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "the tolerance must be finite and ≥ 0.");
        var dims = arm.Space.Dimensions;
        double volume = dims.Aggregate(1.0, (v, d) => v * Width(d, d.Low, d.High));
        var finite = arm.Trials.Where(t => !t.Diverged && double.IsFinite(t.ValidationMetric)).ToList();
        if (finite.Count == 0)
            return new NearBestRegion(arm.Arm, double.NaN, tolerance, arm.Trials.Count, 0, volume, dims.ToDictionary(d => d.Key, _ => double.NaN));
        double best = higherIsBetter ? finite.Max(t => t.ValidationMetric) : finite.Min(t => t.ValidationMetric);
        var within = finite.Where(t => Near(t.ValidationMetric, best, tolerance, higherIsBetter)).ToList();
        var spans = dims.ToDictionary(d => d.Key, d =>
        {
            var values = within.Where(t => t.HyperParameters.ContainsKey(d.Key)).Select(t => t.HyperParameters[d.Key]).ToList();
            return values.Count == 0 ? double.NaN : Width(d, values.Min(), values.Max());
        });
        return new NearBestRegion(arm.Arm, best, tolerance, arm.Trials.Count, within.Count, volume, spans);
    }

    /// <summary>Whether a trial lies within the tolerance of the best (for marking it in plots).</summary>
    public static bool IsWithin(NearBestRegion region, TrialSummary trial, bool higherIsBetter) =>
        !trial.Diverged && double.IsFinite(trial.ValidationMetric) && double.IsFinite(region.Best)
        && Near(trial.ValidationMetric, region.Best, region.Tolerance, higherIsBetter);

    private static bool Near(double value, double best, double tolerance, bool higherIsBetter) =>
        higherIsBetter ? value >= best - tolerance : value <= best + tolerance;

    private static double Width(SearchDimension d, double low, double high) => d.Log ? Math.Log10(high) - Math.Log10(low) : high - low;
}
