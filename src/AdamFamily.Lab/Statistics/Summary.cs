namespace AdamFamily.Lab.Statistics;

/// <summary>Descriptive statistics of a sample.</summary>
/// <param name="N">Sample size.</param>
/// <param name="Mean">Arithmetic mean.</param>
/// <param name="StdDev">Sample standard deviation (n − 1 denominator); NaN when N is 1.</param>
/// <param name="Min">Smallest value.</param>
/// <param name="Max">Largest value.</param>
public readonly record struct Summary(int N, double Mean, double StdDev, double Min, double Max)
{
    /// <summary>Summarises <paramref name="values"/> (at least one value).</summary>
    public static Summary Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("Cannot summarise an empty sample.", nameof(values));
        int n = values.Count;
        double mean = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            mean += values[i];
            min = Math.Min(min, values[i]);
            max = Math.Max(max, values[i]);
        }
        mean /= n;
        double ss = 0; // two-pass: sum of squared deviations from the mean, stable for tightly clustered values
        for (int i = 0; i < n; i++) ss += (values[i] - mean) * (values[i] - mean);
        double sd = n > 1 ? Math.Sqrt(ss / (n - 1)) : double.NaN;
        return new Summary(n, mean, sd, min, max);
    }
}
