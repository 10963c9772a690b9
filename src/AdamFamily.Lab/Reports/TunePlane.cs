using System.Globalization;
using AdamFamily.Lab.Tuning;
using ScottPlot;

namespace AdamFamily.Lab.Reports;

/// <summary>
/// The sensitivity view of a tuning study: per arm, every trial in the lr × weight-decay plane (both on log scales,
/// the axes spanning the arm's search space), coloured and labelled by its validation metric; the trials within the
/// tolerance of the best ringed, the selected one ringed twice, diverged ones crossed. The title carries the
/// near-best region's size (<see cref="Sensitivity"/>).
/// </summary>
public static class TunePlane
{
    /// <summary>The plot file (without extension) of an arm's plane.</summary>
    public static string FileName(string arm) => "tune_plane_" + Execution.ResultFileNames.Escape(arm);

    /// <summary>Whether an arm's space has both an lr and a weight_decay dimension (only then is there a plane).</summary>
    public static bool HasPlane(TuneArmResult arm) => arm.Space.Dimensions.Any(d => d.Key == "lr") && arm.Space.Dimensions.Any(d => d.Key == "weight_decay");

    /// <summary>Writes the plane of every arm that has one under <paramref name="plotsDir"/>; returns (file, caption) per plot.</summary>
    public static IReadOnlyList<(string File, string Caption)> WriteAll(TuneResult tune, IReadOnlyList<NearBestRegion> regions, string plotsDir)
    {
        var files = new List<(string, string)>();
        for (int i = 0; i < tune.Arms.Count; i++)
        {
            var arm = tune.Arms[i];
            if (!HasPlane(arm)) continue;
            var region = regions.Single(r => r.Arm == arm.Arm);
            Plots.Save(Build(tune, arm, region), Path.Combine(plotsDir, FileName(arm.Arm)), 820, 640);
            files.Add((FileName(arm.Arm), $"{arm.Arm}: {tune.Metric} of every trial over lr × weight decay (log scales, the axes span its search space); " +
                                          $"ringed: within {Fmt(region.Tolerance)} of the best ({Describe(region)}); double ring: the selected point; ×: diverged"));
        }
        return files;
    }

    /// <summary>The region in words: "k of n trials (s %), ≈ A decades² of the space's V".</summary>
    public static string Describe(NearBestRegion r) =>
        $"{r.Within} of {r.Trials} trials ({(100 * r.Share).ToString("0", CultureInfo.InvariantCulture)} %), ≈ {Fmt(r.Area)} of the space's {Fmt(r.SpaceVolume)} decades²";

    /// <summary>Builds one arm's plane.</summary>
    public static Plot Build(TuneResult tune, TuneArmResult arm, NearBestRegion region)
    {
        var lrDim = arm.Space.Dimensions.Single(d => d.Key == "lr");
        var wdDim = arm.Space.Dimensions.Single(d => d.Key == "weight_decay");
        double X(TrialSummary t) => lrDim.Log ? Math.Log10(t.HyperParameters["lr"]) : t.HyperParameters["lr"];
        double Y(TrialSummary t) => wdDim.Log ? Math.Log10(t.HyperParameters["weight_decay"]) : t.HyperParameters["weight_decay"];
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Viridis();
        // Colour over [best − 5·tolerance, best] (reversed for lower-is-better), clamped: differences near the top stay visible.
        double span = Math.Max(5 * region.Tolerance, 1e-9);
        double Shade(double v) => double.IsFinite(v) && double.IsFinite(region.Best)
            ? Math.Clamp(1 - Math.Abs(region.Best - v) / span, 0, 1) : 0;
        foreach (var t in arm.Trials)
        {
            if (!t.HyperParameters.ContainsKey("lr") || !t.HyperParameters.ContainsKey("weight_decay")) continue;
            double x = X(t), y = Y(t);
            if (t.Diverged)
            {
                plot.Add.Marker(x, y, MarkerShape.Cross, 14, Colors.Red);
                continue;
            }
            plot.Add.Marker(x, y, MarkerShape.FilledCircle, 14, colormap.GetColor(Shade(t.ValidationMetric)));
            if (Sensitivity.IsWithin(region, t, tune.HigherIsBetter))
            {
                var ring = plot.Add.Marker(x, y, MarkerShape.OpenCircle, 22, Colors.Black);
                ring.LineWidth = 2;
            }
            var label = plot.Add.Text(t.ValidationMetric.ToString("F2", CultureInfo.InvariantCulture), x, y);
            label.LabelFontSize = 11;
            label.LabelOffsetX = 10;
            label.LabelOffsetY = -16;
        }
        if (arm.Selected.HyperParameters.TryGetValue("lr", out var slr) && arm.Selected.HyperParameters.TryGetValue("weight_decay", out var swd))
        {
            var sel = plot.Add.Marker(lrDim.Log ? Math.Log10(slr) : slr, wdDim.Log ? Math.Log10(swd) : swd, MarkerShape.OpenCircle, 32, Colors.Red);
            sel.LineWidth = 2;
        }
        double Pad(double lo, double hi) => 0.04 * (hi - lo);
        double x0 = lrDim.Log ? Math.Log10(lrDim.Low) : lrDim.Low, x1 = lrDim.Log ? Math.Log10(lrDim.High) : lrDim.High;
        double y0 = wdDim.Log ? Math.Log10(wdDim.Low) : wdDim.Low, y1 = wdDim.Log ? Math.Log10(wdDim.High) : wdDim.High;
        plot.Axes.SetLimits(x0 - Pad(x0, x1), x1 + Pad(x0, x1), y0 - Pad(y0, y1), y1 + Pad(y0, y1));
        if (lrDim.Log) plot.Axes.Bottom.TickGenerator = LogTicks();
        if (wdDim.Log) plot.Axes.Left.TickGenerator = LogTicks();
        plot.Title($"{arm.Arm}: best {region.Best.ToString("F2", CultureInfo.InvariantCulture)}; within {Fmt(region.Tolerance)} of it: {region.Within}/{region.Trials} trials, ≈ {Fmt(region.Area)} of {Fmt(region.SpaceVolume)} decades²");
        plot.Axes.Title.Label.FontSize = 13;
        plot.XLabel(lrDim.Log ? "lr (log scale)" : "lr");
        plot.YLabel(wdDim.Log ? "weight decay (log scale)" : "weight decay");
        return plot;
    }

    private static ScottPlot.TickGenerators.NumericAutomatic LogTicks() => new()
    {
        IntegerTicksOnly = true,
        LabelFormatter = v => $"1e{Math.Round(v):0}",
    };

    private static string Fmt(double x) => double.IsFinite(x) ? x.ToString("0.##", CultureInfo.InvariantCulture) : "–";
}
