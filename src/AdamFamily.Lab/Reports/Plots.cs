using ScottPlot;

namespace AdamFamily.Lab.Reports;

/// <summary>One line of a plot: points (x[i], y[i]) and a legend label, with an optional band
/// [lower[i], upper[i]] drawn shaded behind it (e.g. mean ± std).</summary>
public sealed record PlotSeries(string Label, double[] X, double[] Y)
{
    /// <summary>Lower edge of the band (parallel to X), or null for no band.</summary>
    public double[]? Lower { get; init; }
    /// <summary>Upper edge of the band (parallel to X), or null for no band.</summary>
    public double[]? Upper { get; init; }
    /// <summary>Draw the line dashed (for reference curves).</summary>
    public bool Dashed { get; init; }
    /// <summary>Line width in pixels.</summary>
    public float Width { get; init; } = 2;
    /// <summary>Mark every point (for short series).</summary>
    public bool Markers { get; init; }

    /// <summary>A series with a symmetric band y ± spread.</summary>
    public static PlotSeries WithSpread(string label, double[] x, double[] y, double[] spread)
        => new(label, x, y) { Lower = y.Zip(spread, (a, s) => a - s).ToArray(), Upper = y.Zip(spread, (a, s) => a + s).ToArray() };
}

/// <summary>Where a plot's legend goes.</summary>
public enum LegendPosition { UpperRight, UpperLeft, LowerRight, LowerLeft, Below, Hidden }

/// <summary>A line plot: its series, title, axis labels and whether the y axis is logarithmic.</summary>
public sealed record LinePlot(string Title, string XLabel, string YLabel, IReadOnlyList<PlotSeries> Series, bool LogY = false)
{
    /// <summary>Where the legend goes (shown when there is more than one entry).</summary>
    public LegendPosition Legend { get; init; } = LegendPosition.UpperRight;

    /// <summary>Horizontal reference lines (value, label), e.g. a bound.</summary>
    public IReadOnlyList<(double Y, string Label)> HorizontalLines { get; init; } = Array.Empty<(double, string)>();
}

/// <summary>A rectangle of the plane.</summary>
public readonly record struct Domain(double XMin, double XMax, double YMin, double YMax)
{
    public double Width => XMax - XMin;
    public double Height => YMax - YMin;
}

/// <summary>
/// A map of a function of two variables (heatmap plus contour lines) with paths drawn over it, e.g.
/// optimizer trajectories on a test function. <see cref="Transform"/> maps the function's values to
/// the colour scale (e.g. log(1 + f − min)).
/// </summary>
public sealed record FieldPlot(string Title, Func<double, double, double> Function, Domain Domain, IReadOnlyList<PlotSeries> Paths)
{
    public string XLabel { get; init; } = "x";
    public string YLabel { get; init; } = "y";
    /// <summary>Applied to every function value before colouring; the identity by default.</summary>
    public Func<double, double>? Transform { get; init; }
    /// <summary>Grid resolution per axis.</summary>
    public int Resolution { get; init; } = 160;
    /// <summary>Number of contour lines (0 for none).</summary>
    public int ContourLines { get; init; } = 12;
    /// <summary>Points marked with a label (e.g. the minimiser).</summary>
    public IReadOnlyList<(double X, double Y, string Label)> Markers { get; init; } = Array.Empty<(double, double, string)>();
}

/// <summary>
/// Plots written as PNG and SVG with ScottPlot 5, headless. Generic on purpose: the theory commands and the
/// HTML reports use the same helpers. Log scales are drawn by plotting log10(y) with decade ticks; points
/// that are not finite, or not positive on a log scale, break the line instead of failing.
/// </summary>
public static class Plots
{
    /// <summary>The colours series take, in order (Category10).</summary>
    public static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    /// <summary>Builds the ScottPlot plot of a line plot (for callers that want to add to it before saving).</summary>
    public static Plot Build(LinePlot spec)
    {
        var plot = new Plot();
        int i = 0;
        foreach (var s in spec.Series)
        {
            var color = Palette.GetColor(i++);
            if (s.Lower is { } lo && s.Upper is { } hi)
            {
                var band = new List<(double, double, double)>();
                for (int k = 0; k < s.X.Length; k++)
                {
                    double a = Map(lo[k], spec.LogY), b = Map(hi[k], spec.LogY);
                    if (spec.LogY && !double.IsFinite(a) && double.IsFinite(b)) a = b - 3; // lower edge at or below zero: show three decades
                    if (double.IsFinite(s.X[k]) && double.IsFinite(a) && double.IsFinite(b)) band.Add((s.X[k], a, b));
                }
                if (band.Count > 1)
                {
                    var fill = plot.Add.FillY(band);
                    fill.FillColor = color.WithAlpha(0.2);
                    fill.LineWidth = 0;
                }
            }
            bool labelled = false;
            foreach (var (xs, ys) in Segments(s.X, s.Y, spec.LogY))
            {
                var line = xs.Length == 1 ? plot.Add.Scatter(xs, ys, color) : plot.Add.ScatterLine(xs, ys, color);
                line.LineWidth = s.Width;
                line.MarkerSize = xs.Length == 1 || s.Markers ? 5 : 0;
                if (s.Dashed) line.LinePattern = LinePattern.Dashed;
                if (!labelled) { line.LegendText = s.Label; labelled = true; }
            }
        }
        foreach (var (y, label) in spec.HorizontalLines)
        {
            double v = Map(y, spec.LogY);
            if (!double.IsFinite(v)) continue;
            var h = plot.Add.HorizontalLine(v, 1, Colors.Gray, LinePattern.Dotted);
            h.LegendText = label;
        }
        plot.Title(spec.Title);
        plot.XLabel(spec.XLabel);
        plot.YLabel(spec.YLabel);
        if (spec.LogY) UseLogTicks(plot, spec.Series);
        if (spec.Series.Count + spec.HorizontalLines.Count > 1 && spec.Legend == LegendPosition.Below)
            plot.ShowLegend(Edge.Bottom);
        else if (spec.Series.Count + spec.HorizontalLines.Count > 1 && spec.Legend != LegendPosition.Hidden)
            plot.ShowLegend(spec.Legend switch
            {
                LegendPosition.UpperLeft => Alignment.UpperLeft,
                LegendPosition.LowerRight => Alignment.LowerRight,
                LegendPosition.LowerLeft => Alignment.LowerLeft,
                _ => Alignment.UpperRight,
            });
        return plot;
    }

    /// <summary>Writes a line plot as <paramref name="path"/>.png and .svg; returns both paths.</summary>
    public static (string Png, string Svg) Save(LinePlot spec, string path, int width = 900, int height = 560)
        => Save(Build(spec), path, width, height);

    /// <summary>Writes any ScottPlot plot as <paramref name="path"/>.png and .svg (the extension of path, if any, is replaced).</summary>
    public static (string Png, string Svg) Save(Plot plot, string path, int width = 900, int height = 560)
    {
        var basePath = Path.ChangeExtension(path, null);
        var dir = Path.GetDirectoryName(Path.GetFullPath(basePath));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        string png = basePath + ".png", svg = basePath + ".svg";
        plot.SavePng(png, width, height);
        var restore = SolidLinesForSvg(plot);
        try { plot.SaveSvg(svg, width, height); }
        finally { restore(); }
        return (png, svg);
    }

    /// <summary>
    /// Skia's SVG backend has no dash effects (it draws them solid and complains on stderr), so for the SVG
    /// dashed and dotted lines become thin translucent solid lines; returns the action that restores them.
    /// </summary>
    private static Action SolidLinesForSvg(Plot plot)
    {
        var undo = new List<Action>();
        foreach (var p in plot.GetPlottables())
        {
            if (p is ScottPlot.Plottables.Scatter sc && sc.LinePattern.Name != LinePattern.Solid.Name)
            {
                var (pattern, color, width) = (sc.LinePattern, sc.LineColor, sc.LineWidth);
                sc.LinePattern = LinePattern.Solid;
                sc.LineColor = color.WithAlpha(color.A / 255.0 * 0.55);
                sc.LineWidth = Math.Max(1, width * 0.75f);
                undo.Add(() => { sc.LinePattern = pattern; sc.LineColor = color; sc.LineWidth = width; });
            }
            else if (p is ScottPlot.Plottables.AxisLine al && al.LinePattern.Name != LinePattern.Solid.Name)
            {
                var (pattern, color) = (al.LinePattern, al.LineColor);
                al.LinePattern = LinePattern.Solid;
                al.LineColor = color.WithAlpha(color.A / 255.0 * 0.55);
                undo.Add(() => { al.LinePattern = pattern; al.LineColor = color; });
            }
        }
        return () => { foreach (var u in undo) u(); };
    }

    /// <summary>Builds the heatmap-and-contours map of a field plot with its paths.</summary>
    public static Plot Build(FieldPlot spec)
    {
        var d = spec.Domain;
        int n = Math.Max(8, spec.Resolution);
        var transform = spec.Transform ?? (v => v);
        var z = new double[n, n];
        var grid = new Coordinates3d[n, n];
        for (int i = 0; i < n; i++)
        {
            double y = d.YMin + d.Height * i / (n - 1);
            for (int j = 0; j < n; j++)
            {
                double x = d.XMin + d.Width * j / (n - 1);
                double v = transform(spec.Function(x, y));
                z[i, j] = double.IsFinite(v) ? v : double.NaN;
                grid[i, j] = new Coordinates3d(x, y, double.IsFinite(v) ? v : 0);
            }
        }
        var plot = new Plot();
        var heat = plot.Add.Heatmap(z);
        heat.Extent = new CoordinateRect(d.XMin, d.XMax, d.YMin, d.YMax);
        heat.FlipVertically = true; // row 0 is y = YMin, drawn at the bottom
        heat.Colormap = new ScottPlot.Colormaps.Viridis();
        heat.Opacity = 0.85;
        if (spec.ContourLines > 0)
        {
            var contours = plot.Add.ContourLines(grid, spec.ContourLines);
            contours.LineColor = Colors.White.WithAlpha(0.45);
            contours.LabelStyle.IsVisible = false;
        }
        var paths = new[] { Colors.Red, Colors.Orange, Colors.Magenta, Colors.White, Colors.Cyan, Colors.Black, Colors.Yellow, Colors.LightGreen };
        int k = 0, count = spec.Paths.Count;
        foreach (var s in spec.Paths)
        {
            var color = paths[k % paths.Length];
            // Later paths are drawn on top and thinner, so paths that coincide stay visible underneath.
            float width = s.Width + 1.5f * (count - 1 - k);
            k++;
            bool labelled = false;
            foreach (var (xs, ys) in Segments(s.X, s.Y, logY: false))
            {
                var line = plot.Add.ScatterLine(xs, ys, color);
                line.LineWidth = width;
                line.MarkerSize = 0;
                if (s.Dashed) line.LinePattern = LinePattern.Dashed;
                if (!labelled) { line.LegendText = s.Label; labelled = true; }
            }
            int last = LastFinite(s.X, s.Y);
            if (last >= 0)
            {
                var end = plot.Add.Marker(s.X[last], s.Y[last], MarkerShape.FilledCircle, 9, color);
                end.LegendText = "";
            }
        }
        var start = spec.Paths.FirstOrDefault(p => p.X.Length > 0);
        if (start is not null)
        {
            var m = plot.Add.Marker(start.X[0], start.Y[0], MarkerShape.OpenSquare, 12, Colors.White);
            m.LegendText = "start";
        }
        foreach (var (x, y, label) in spec.Markers)
        {
            var m = plot.Add.Marker(x, y, MarkerShape.Cross, 14, Colors.White);
            m.LegendText = label;
        }
        plot.Axes.SetLimits(d.XMin, d.XMax, d.YMin, d.YMax);
        plot.Title(spec.Title);
        plot.XLabel(spec.XLabel);
        plot.YLabel(spec.YLabel);
        var legend = plot.ShowLegend(Alignment.UpperRight);
        legend.BackgroundColor = Colors.Black.WithAlpha(0.6);
        legend.FontColor = Colors.White;
        legend.OutlineColor = Colors.Gray;
        return plot;
    }

    /// <summary>Writes a field plot as <paramref name="path"/>.png and .svg.</summary>
    public static (string Png, string Svg) Save(FieldPlot spec, string path, int width = 820, int height = 720)
        => Save(Build(spec), path, width, height);

    private static double Map(double y, bool log) => !double.IsFinite(y) ? double.NaN : log ? (y > 0 ? Math.Log10(y) : double.NaN) : y;

    /// <summary>The runs of consecutive drawable points, so a gap (NaN, ∞, or ≤ 0 on a log scale) breaks the line.</summary>
    private static IEnumerable<(double[] X, double[] Y)> Segments(double[] x, double[] y, bool logY)
    {
        int n = Math.Min(x.Length, y.Length);
        var xs = new List<double>();
        var ys = new List<double>();
        for (int i = 0; i <= n; i++)
        {
            double yy = i < n ? Map(y[i], logY) : double.NaN;
            if (i < n && double.IsFinite(x[i]) && double.IsFinite(yy))
            {
                xs.Add(x[i]);
                ys.Add(yy);
            }
            else if (xs.Count > 0)
            {
                yield return (xs.ToArray(), ys.ToArray());
                xs.Clear();
                ys.Clear();
            }
        }
    }

    private static int LastFinite(double[] x, double[] y)
    {
        for (int i = Math.Min(x.Length, y.Length) - 1; i >= 0; i--)
            if (double.IsFinite(x[i]) && double.IsFinite(y[i])) return i;
        return -1;
    }

    /// <summary>Decade ticks labelled 1e-3, 1e-2, ... (or finer labels when the data spans less than two decades).</summary>
    private static void UseLogTicks(Plot plot, IEnumerable<PlotSeries> series)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var s in series)
            foreach (var v in s.Y)
                if (double.IsFinite(v) && v > 0) { lo = Math.Min(lo, Math.Log10(v)); hi = Math.Max(hi, Math.Log10(v)); }
        bool decades = !(hi - lo < 2);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = decades,
            LabelFormatter = v => decades ? $"1e{Math.Round(v):0}" : Math.Pow(10, v).ToString("G3", System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}
