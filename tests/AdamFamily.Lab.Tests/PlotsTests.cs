using AdamFamily.Lab.Reports;

namespace AdamFamily.Lab.Tests;

public class PlotsTests
{
    private static string TempDir() => Path.Combine(Path.GetTempPath(), "afm-plots-" + Guid.NewGuid().ToString("N"));

    private static void AssertPng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000, $"{path}: {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
    }

    private static void AssertSvg(string path)
    {
        var text = File.ReadAllText(path);
        Assert.True(text.Length > 1000, $"{path}: {text.Length} characters");
        Assert.Contains("<svg", text);
    }

    [Fact]
    public void LinePlotWithLogScaleAndBandWritesPngAndSvg()
    {
        var dir = TempDir();
        try
        {
            double[] x = Enumerable.Range(0, 50).Select(i => (double)i).ToArray();
            double[] y = x.Select(v => Math.Exp(-v / 5)).ToArray();
            var series = new[]
            {
                PlotSeries.WithSpread("decay ± band", x, y, y.Select(v => v / 2).ToArray()),
                // zeros, NaN and ∞ break the line on a log scale instead of failing
                new PlotSeries("with gaps", x, x.Select(v => v % 10 == 0 ? 0 : v == 25 ? double.NaN : 1 / (1 + v)).ToArray()) { Dashed = true },
            };
            var (png, svg) = Plots.Save(new LinePlot("title", "step", "value", series, LogY: true) { HorizontalLines = new[] { (1e-2, "a bound") } }, Path.Combine(dir, "line"));
            Assert.Equal(Path.Combine(dir, "line.png"), png);
            AssertPng(png);
            AssertSvg(svg);
            var (png2, svg2) = Plots.Save(new LinePlot("linear", "x", "y", series) { Legend = LegendPosition.Below }, Path.Combine(dir, "linear.png"));
            AssertPng(png2);
            AssertSvg(svg2);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void FieldPlotWithPathsWritesPngAndSvg()
    {
        var dir = TempDir();
        try
        {
            var path = new PlotSeries("path", new[] { -1.0, 0.0, 0.5, double.NaN }, new[] { 1.0, 0.5, 0.2, double.NaN });
            var spec = new FieldPlot("bowl", (x, y) => x * x + 3 * y * y, new Domain(-2, 2, -1, 2), new[] { path })
            {
                Resolution = 40, Transform = v => Math.Log10(1 + v), Markers = new[] { (0.0, 0.0, "minimum") },
            };
            var (png, svg) = Plots.Save(spec, Path.Combine(dir, "field"));
            AssertPng(png);
            AssertSvg(svg);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
