using System.Globalization;
using System.Net;
using System.Text;
using AdamFamily.Lab.Tuning;
using ScottPlot;

namespace AdamFamily.Lab.Reports;

/// <summary>
/// The report of a tuning study: compare's report of the final seeds (<see cref="ComparisonReport"/>) with the
/// tuning added: each arm's space and selected hyper-parameters, edge-of-space warnings, best validation so far
/// against trials, and the validation metric against lr and weight decay.
/// </summary>
public static class TuneReport
{
    public static readonly IReadOnlyList<(string File, string Caption)> PlotFiles = new[]
    {
        ("tune_best_so_far", "Best validation metric so far against trials, per arm (mean over studies; band: best and worst study)"),
        ("tune_valid_vs_lr", "Validation metric of every trial against lr (log scale); ringed: the selected point; a diverged trial sits at the worst value"),
        ("tune_valid_vs_weight_decay", "Validation metric of every trial against weight decay (log scale), where it was tuned"),
    };

    /// <summary>Whether the folder holds a tuning study.</summary>
    public static bool IsTuneFolder(string dir) => File.Exists(Path.Combine(dir, TuneRunner.ResultFile));

    /// <summary>Writes plots, report.html and summary.md; returns the report's path.</summary>
    public static string Write(string dir)
    {
        var path = Path.Combine(dir, TuneRunner.ResultFile);
        TuneResult tune;
        try { tune = System.Text.Json.JsonSerializer.Deserialize<TuneResult>(File.ReadAllText(path), LabFiles.Json) ?? throw new InvalidDataException($"{path}: empty."); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{path}: not a tune.json: {e.Message}", e); }
        var plots = Path.Combine(dir, "plots");
        var best = Plots.Build(BestSoFar(tune));
        best.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        Plots.Save(best, Path.Combine(plots, "tune_best_so_far"));
        Plots.Save(Versus(tune, "lr"), Path.Combine(plots, "tune_valid_vs_lr"));
        var files = PlotFiles.Take(2).ToList();
        if (tune.Arms.Any(a => a.Space.Dimensions.Any(d => d.Key == "weight_decay")))
        {
            Plots.Save(Versus(tune, "weight_decay"), Path.Combine(plots, "tune_valid_vs_weight_decay"));
            files.Add(PlotFiles[2]);
        }
        var regions = Sensitivity.Of(tune);
        files.AddRange(TunePlane.WriteAll(tune, regions, plots));
        return ComparisonReport.Write(dir, new ReportExtras
        {
            Title = $"{tune.Task}: which optimizer is better when each gets the same tuning budget?",
            IntroHtml = IntroHtml(tune),
            SectionsHtml = SectionsHtml(tune, regions),
            PlotFiles = files,
            MarkdownBefore = Markdown(tune, regions),
            ReproduceHtml = "<p>Reproduce: <code>afm tune … --out DIR</code> with the settings in tune-settings.json (a rerun in the same folder reuses every finished unit); re-render: <code>afm report DIR</code>.</p>",
        });
    }

    /// <summary>What the sensitivity table's columns mean.</summary>
    public const string SensitivityNote =
        "the trials are a scrambled Halton sequence, evenly spread over each space (log-uniform dimensions in decades), so the share of trials within the tolerance " +
        "estimates the share of the space within it; near-best region = share × the space's volume (decades² for log lr × log weight decay; it moves in steps of " +
        "1/trials and always holds the best trial); extent = max − min over those trials, in decades for log dimensions. AdamW's per-step shrink is lr·λ: " +
        "log(lr·λ) = log lr + log λ is a shear of the plane, so areas in decades² compare across parametrisations";

    private static string Pct(double share) => double.IsFinite(share) ? (100 * share).ToString("0", CultureInfo.InvariantCulture) + " %" : "–";

    private static string Num(double x) => double.IsFinite(x) ? x.ToString("0.##", CultureInfo.InvariantCulture) : "–";

    private static string Spans(NearBestRegion r) => string.Join(", ", r.Spans.Select(kv => $"{kv.Key} {Num(kv.Value)}"));

    private static string Point(Dictionary<string, double> p) => string.Join(", ", p.Select(kv => $"{kv.Key}={HyperParameters.F(kv.Value)}"));

    private static string IntroHtml(TuneResult t) =>
        $"<p>Each arm got the same budget: {t.Studies} stud{(t.Studies == 1 ? "y" : "ies")} × {t.Trials} trials, the points of a seeded scrambled Halton sequence in its search space, " +
        $"each trained on the training set minus the validation split and scored by the {WebUtility.HtmlEncode(t.Metric)} after the last epoch (a diverged trial counts, at the worst value). " +
        $"Selection: {WebUtility.HtmlEncode(t.Selection)}. The selected point was then rerun with the fresh seeds {string.Join(", ", t.FinalSeeds)} (never tuning seeds), paired across arms, and judged on the test set below.</p>";

    private static string SectionsHtml(TuneResult t, IReadOnlyList<NearBestRegion> regions)
    {
        string E(string x) => WebUtility.HtmlEncode(x);
        var sb = new StringBuilder("<h2>Tuning</h2>");
        var warnings = t.Arms.SelectMany(a => a.EdgeWarnings).ToList();
        foreach (var w in warnings) sb.AppendLine($"<p class=\"worse\">⚠ {E(w)}</p>");
        sb.AppendLine("<table id=\"tuning\"><thead><tr><th>arm</th><th>search space</th><th>selected (study, trial)</th><th>selected hyper-parameters</th><th>its validation</th><th>best per study</th><th>diverged trials</th></tr></thead><tbody>");
        foreach (var a in t.Arms)
            sb.AppendLine($"<tr><td>{E(a.Arm)}</td><td class=\"hp\">{E(a.Space.ToString())}</td><td>{a.Selected.Study}, {a.Selected.Trial}</td><td class=\"hp\">{E(Point(a.Selected.HyperParameters))}</td>" +
                          $"<td>{VerdictTable.N(a.Selected.ValidationMetric)}</td><td>{E(string.Join(", ", a.StudyBests.Select(b => VerdictTable.N(b.ValidationMetric))))}</td><td>{a.Trials.Count(x => x.Diverged)}/{a.Trials.Count}</td></tr>");
        sb.AppendLine("</tbody></table>");
        sb.AppendLine("<p class=\"note\">Every trial with its hyper-parameters and validation metric is in tune.json; the trials' runs in trials/.</p>");
        sb.AppendLine($"<h3>Sensitivity: the region within {HyperParameters.F(Sensitivity.DefaultTolerance)} of each arm's best trial</h3>");
        sb.AppendLine($"<p class=\"note\">{E(SensitivityNote)}</p>");
        sb.AppendLine("<table id=\"sensitivity\"><thead><tr><th>arm</th><th>best trial</th><th>trials within</th><th>share</th><th>space (decades, units)</th><th>near-best region</th><th>its extent per dimension</th></tr></thead><tbody>");
        foreach (var r in regions)
            sb.AppendLine($"<tr><td>{E(r.Arm)}</td><td>{VerdictTable.N(r.Best)}</td><td>{r.Within}/{r.Trials}</td><td>{Pct(r.Share)}</td><td>{Num(r.SpaceVolume)}</td><td>{Num(r.Area)}</td><td class=\"hp\">{E(Spans(r))}</td></tr>");
        sb.AppendLine("</tbody></table>");
        return sb.ToString();
    }

    private static string Markdown(TuneResult t, IReadOnlyList<NearBestRegion> regions)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"**Tuning** ({t.Studies} × {t.Trials} trials per arm, scrambled Halton, scored on {t.Metric}; final seeds {string.Join(", ", t.FinalSeeds)}):");
        sb.AppendLine();
        sb.AppendLine("| arm | search space | selected hyper-parameters | validation |");
        sb.AppendLine("| --- | --- | --- | --- |");
        foreach (var a in t.Arms) sb.AppendLine($"| {a.Arm} | {a.Space} | {Point(a.Selected.HyperParameters)} | {VerdictTable.N(a.Selected.ValidationMetric)} |");
        sb.AppendLine();
        foreach (var w in t.Arms.SelectMany(a => a.EdgeWarnings)) sb.AppendLine($"> ⚠ {w}");
        sb.AppendLine();
        sb.AppendLine($"**Sensitivity** (trials within {HyperParameters.F(Sensitivity.DefaultTolerance)} ({t.Metric}) of the arm's best trial; {SensitivityNote}):");
        sb.AppendLine();
        sb.AppendLine("| arm | best trial | trials within | share | space | near-best region | its extent per dimension |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in regions) sb.AppendLine($"| {r.Arm} | {VerdictTable.N(r.Best)} | {r.Within}/{r.Trials} | {Pct(r.Share)} | {Num(r.SpaceVolume)} | {Num(r.Area)} | {Spans(r)} |");
        sb.AppendLine();
        return sb.ToString();
    }

    private static LinePlot BestSoFar(TuneResult t)
    {
        var series = t.Arms.Select(a =>
        {
            var byStudy = Enumerable.Range(0, t.Studies).Select(study =>
            {
                double best = double.NaN;
                return a.Trials.Where(x => x.Study == study).OrderBy(x => x.Trial).Select(x =>
                {
                    if (double.IsNaN(best) || (t.HigherIsBetter ? x.ValidationMetric > best : x.ValidationMetric < best)) best = x.ValidationMetric;
                    return best;
                }).ToArray();
            }).ToArray();
            var xs = Enumerable.Range(1, t.Trials).Select(i => (double)i).ToArray();
            var mean = xs.Select((_, i) => byStudy.Average(s => s[i])).ToArray();
            return new PlotSeries(a.Arm, xs, mean)
            {
                Lower = xs.Select((_, i) => byStudy.Min(s => s[i])).ToArray(),
                Upper = xs.Select((_, i) => byStudy.Max(s => s[i])).ToArray(),
                Markers = true,
            };
        }).ToList();
        return new LinePlot("Best validation so far", "trials", t.Metric, series) { Legend = t.HigherIsBetter ? LegendPosition.LowerRight : LegendPosition.UpperRight };
    }

    /// <summary>Validation metric of every trial against one hyper-parameter (log10 x axis), per arm; the selected point ringed.</summary>
    private static Plot Versus(TuneResult t, string key)
    {
        var plot = new Plot();
        for (int i = 0; i < t.Arms.Count; i++)
        {
            var a = t.Arms[i];
            var pts = a.Trials.Where(x => x.HyperParameters.ContainsKey(key) && x.HyperParameters[key] > 0).ToList();
            if (pts.Count == 0) continue;
            var color = Plots.Palette.GetColor(i);
            var sc = plot.Add.ScatterPoints(pts.Select(x => Math.Log10(x.HyperParameters[key])).ToArray(), pts.Select(x => x.ValidationMetric).ToArray());
            sc.Color = color;
            sc.MarkerSize = 8;
            sc.LegendText = a.Arm;
            var div = pts.Where(x => x.Diverged).ToList();
            if (div.Count > 0)
            {
                var dm = plot.Add.ScatterPoints(div.Select(x => Math.Log10(x.HyperParameters[key])).ToArray(), div.Select(x => x.ValidationMetric).ToArray());
                dm.Color = color;
                dm.MarkerShape = MarkerShape.Cross;
                dm.MarkerSize = 12;
            }
            if (a.Selected.HyperParameters.TryGetValue(key, out var sel) && sel > 0)
            {
                var m = plot.Add.Marker(Math.Log10(sel), a.Selected.ValidationMetric, MarkerShape.OpenCircle, 18, color);
                m.LineWidth = 2;
            }
        }
        var xs = t.Arms.SelectMany(a => a.Trials).Where(x => x.HyperParameters.TryGetValue(key, out var v) && v > 0).Select(x => Math.Log10(x.HyperParameters[key])).ToList();
        bool decades = xs.Count > 0 && xs.Max() - xs.Min() >= 1.5;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = decades,
            LabelFormatter = v => decades ? $"1e{Math.Round(v):0}" : HyperParameters.F(double.Parse(Math.Pow(10, v).ToString("G2", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)),
        };
        plot.Title($"{t.Metric} against {key}");
        plot.XLabel($"{key} (log scale)");
        plot.YLabel(t.Metric);
        plot.ShowLegend(Alignment.LowerLeft);
        return plot;
    }
}
