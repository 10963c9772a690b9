using System.Globalization;
using System.Text;
using AdamFamily.Lab.Experiments;

namespace AdamFamily.Lab.Reports;

/// <summary>
/// The verdict table of a comparison (and of a tuning study's final seeds) as text cells, with its footnote:
/// one source of numbers for report.html, summary.md and the console table.
/// </summary>
public static class VerdictTable
{
    /// <summary>Column index of the verdict and of non-inferiority (for colouring).</summary>
    public const int VerdictColumn = 9, NonInferiorColumn = 10;

    /// <summary>
    /// How a cell of <paramref name="column"/> reads, for colouring: good for the arm (better; non-inferior), bad (worse,
    /// not better, not non-inferior), not a finding (inconclusive; the baseline row), or plain (every other column).
    /// </summary>
    public static CellTone ToneOf(int column, string cell)
    {
        bool Starts(string prefix) => cell.StartsWith(prefix, StringComparison.Ordinal);
        if (column == VerdictColumn)
            return cell == "better" ? CellTone.Good : cell == "worse" || Starts("not better") ? CellTone.Bad
                : cell == "baseline" || Starts("inconclusive") ? CellTone.Muted : CellTone.Plain;
        if (column == NonInferiorColumn)
            return cell == "yes" ? CellTone.Good : Starts("no") && !Starts("non") ? CellTone.Bad : Starts("inconclusive") ? CellTone.Muted : CellTone.Plain;
        return CellTone.Plain;
    }

    public static string[] Header(ComparisonSummary summary)
    {
        var s = summary.Settings;
        return new[]
        {
            "arm", "hyper-parameters (resolved)", "final (mean ± std)", "test @ best-validation epoch", "diverged", "s/epoch (optimizer)",
            "pairs", $"Δ vs {s.BaselineArm} [CI]", "p (Holm)", "verdict", $"non-inferior (±{s.Margin.ToString(CultureInfo.InvariantCulture)} {s.MarginUnit})", "seeds needed",
        };
    }

    public static IReadOnlyList<string[]> Rows(ComparisonSummary summary)
    {
        var rows = new List<string[]>();
        foreach (var a in summary.Arms)
        {
            var v = summary.Versus.FirstOrDefault(x => x.Arm == a.Arm);
            rows.Add(new[]
            {
                a.Arm,
                a.HyperParameters is { Count: > 0 } hp ? HyperParameters.Format(hp) : a.Optimizer,
                $"{N(a.FinalMean)} ± {N(a.FinalStd)}",
                double.IsFinite(a.SelectedMean) ? $"{N(a.SelectedMean)} ± {N(a.SelectedStd)}" : "– (no validation)",
                $"{a.Divergences}/{a.Runs}",
                $"{N(a.SecondsPerEpoch)} ({(double.IsFinite(a.OptimizerShare) ? (a.OptimizerShare * 100).ToString("F0", CultureInfo.InvariantCulture) + "%" : "–")})",
                v is null ? "" : v.Pairs.ToString(CultureInfo.InvariantCulture),
                v is null ? "" : double.IsFinite(v.CiLow)
                    ? $"{S(v.MeanDifference)} [{S(v.CiLow)}, {S(v.CiHigh)}] {Pct(v.CiConfidence)}"
                    : S(v.MeanDifference),
                v is null ? "" : $"{P(v.PValue)} ({P(v.AdjustedPValue)})",
                v?.Verdict ?? "baseline",
                v?.NonInferiorText ?? "",
                v is null ? "" : v.SeedsNeeded is { } n ? n.ToString(CultureInfo.InvariantCulture) : "–",
            });
        }
        return rows;
    }

    /// <summary>The footnote: how the numbers were made, the correction by name, the divergence rule and the selection rule.</summary>
    public static string Footnote(ComparisonSummary summary)
    {
        var s = summary.Settings;
        var st = summary.Statistics ?? StatisticsInfo.For(s, summary.Versus.Count, double.NaN);
        var sb = new StringBuilder();
        sb.Append($"Per arm: final {s.MetricName} over {s.Seeds.Length} seeds ({(s.HigherIsBetter ? "higher" : "lower")} is better); {st.Divergence}. ");
        sb.Append($"Test @ best-validation epoch: the test metric at the epoch whose validation metric was best ({st.Selection}). ");
        sb.Append($"Δ: paired mean difference arm − baseline over the seeds, with a paired-t interval at the level shown. ");
        sb.Append($"p: {st.Test}; in brackets adjusted by {st.Correction} (family-wise α = {st.Alpha.ToString(CultureInfo.InvariantCulture)}). ");
        sb.Append($"Non-inferior: {st.NonInferiority}. Seeds needed: {st.SeedsNeeded}.");
        return sb.ToString();
    }

    /// <summary>The table and footnote as Markdown.</summary>
    public static string Markdown(ComparisonSummary summary, string? title = null)
    {
        var s = summary.Settings;
        var sb = new StringBuilder();
        sb.AppendLine(title ?? $"**{s.Protocol}**: final {s.MetricName} over seeds {string.Join(", ", s.Seeds)} ({(s.HigherIsBetter ? "higher" : "lower")} is better), baseline `{s.BaselineArm}`.");
        sb.AppendLine();
        var header = Header(summary);
        sb.AppendLine("| " + string.Join(" | ", header) + " |");
        sb.AppendLine("|" + string.Concat(header.Select(_ => " --- |")));
        foreach (var r in Rows(summary)) sb.AppendLine("| " + string.Join(" | ", r.Select(c => c.Replace("|", "\\|"))) + " |");
        sb.AppendLine();
        sb.AppendLine(Footnote(summary));
        sb.AppendLine();
        sb.AppendLine($"Task {s.Task}, model {s.Model}, {s.Epochs} epochs, batch {s.BatchSize}, lr schedule {s.Schedule}.");
        return sb.ToString();
    }

    public static string N(double x, string format = "F2") => double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "–";
    private static string S(double x) => double.IsFinite(x) ? x.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) : "–";
    private static string P(double p) => !double.IsFinite(p) ? "–" : p < 0.001 ? "<0.001" : p.ToString("0.###", CultureInfo.InvariantCulture);
    private static string Pct(double c) => (c * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";
}

/// <summary>How a verdict-table cell reads (<see cref="VerdictTable.ToneOf"/>).</summary>
public enum CellTone
{
    /// <summary>Not a verdict cell, or a verdict with no colour (no detectable difference).</summary>
    Plain,
    /// <summary>Good for the arm.</summary>
    Good,
    /// <summary>Bad for the arm.</summary>
    Bad,
    /// <summary>Not a finding: inconclusive, or the baseline row.</summary>
    Muted,
}
