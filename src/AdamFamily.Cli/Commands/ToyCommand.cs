using System.CommandLine;
using System.Globalization;
using AdamFamily.Lab;
using AdamFamily.Lab.Theory;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm toy</c>: trajectories of chosen optimizers on a 2-D test function with weight decay, drawn over a map
/// of the function; optionally each at its best learning rate of a small grid. The computation is in
/// AdamFamily.Lab.Theory.Toy; this file parses options and prints the summary.
/// </summary>
internal static class ToyCommand
{
    public static Command Create()
    {
        var d = new ToySettings();
        var function = new Option<string>("--function") { Description = $"Test function: {string.Join(", ", ToyFunction.All.Select(f => f.Name))}.", DefaultValueFactory = _ => d.Function };
        var optimizers = new Option<string>("--optimizers") { Description = "Comma-separated presets (afm list).", DefaultValueFactory = _ => string.Join(",", d.Optimizers) };
        var steps = new Option<int>("--steps") { Description = "Steps per optimizer.", DefaultValueFactory = _ => d.Steps };
        var start = new Option<string?>("--start") { Description = "Start point x,y (default: the function's)." };
        var wd = new Option<double>("--weight-decay") { Description = "σ for every optimizer (each applies it in its own placement).", DefaultValueFactory = _ => d.WeightDecay };
        var lr = new Option<double?>("--lr") { Description = "One learning rate for all (default: the function's, one for the adaptive methods and one for SGD)." };
        var eps = new Option<double?>("--eps") { Description = "ε for every optimizer that has one (default: each preset's own)." };
        var search = new Option<bool>("--search") { Description = "Try a log grid of learning rates per optimizer and show each at the one with the lowest final f + (σ/2)‖x‖²." };
        var grid = new Option<string?>("--grid") { Description = "The search grid as min:max:count (default 1e-4:1:8)." };
        var outDir = new Option<string?>("--out") { Description = "Folder for the plot (PNG, SVG) and the JSON (default runs/toy)." };
        var cmd = new Command("toy", "Trajectories of optimizers on 2-D test functions (Rosenbrock, Rastrigin, Ackley, a nonsmooth one) with weight decay, over a map of the function.")
        {
            function, optimizers, steps, start, wd, lr, eps, search, grid, outDir,
        };
        cmd.SetAction(r =>
        {
            var s = new ToySettings
            {
                Function = ToyFunction.Get(r.GetValue(function)!).Name,
                Optimizers = CommaList.Parse(r.GetValue(optimizers), "--optimizers"),
                Steps = r.GetValue(steps),
                Start = r.GetValue(start) is { } st ? ParsePair(st) : null,
                WeightDecay = r.GetValue(wd),
                LearningRate = r.GetValue(lr),
                Eps = r.GetValue(eps),
                Search = r.GetValue(search),
                Grid = r.GetValue(grid) is { } g ? ParseGrid(g) : d.Grid,
            };
            if (r.GetResult(grid) is { Implicit: false } && !s.Search)   // after the grid's own check, so a bad grid is named first
                throw new ArgumentException($"--grid applies to --search (the learning-rate search), which is not given; add --search or drop --grid.");
            if (s.Search && s.LearningRate is { } fixedLr)   // the search picks each optimizer's lr from the grid: a fixed one would be ignored
                throw new ArgumentException($"--lr {fixedLr} and --search: the search takes the learning rates of --grid, so --lr would be ignored; give one of them (a one-point grid is --grid {fixedLr}:{fixedLr}:1).");
            var dir = r.GetValue(outDir) ?? Path.Combine("runs", "toy");
            AdamFamily.Lab.LabFiles.CheckWritableFolder(dir, "--out");
            var result = Toy.Run(s, p => AnsiConsole.MarkupLine($"[grey]running {Markup.Escape(p)}{(s.Search ? $" at {s.Grid.Length} learning rates" : "")}...[/]"));
            var files = Toy.Save(result, dir);
            Print(result);
            AnsiConsole.MarkupLine($"Plot and numbers: {Markup.Escape(string.Join(", ", files.Select(Path.GetFullPath)))}");
            return 0;
        });
        return cmd;
    }

    private static void Print(ToyResult r)
    {
        var s = r.Settings;
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{Markup.Escape(r.Function)}[/]: {Markup.Escape(r.Formula)}, σ = {s.WeightDecay:G3}, {s.Steps} steps from ({r.Start[0]:G4}, {r.Start[1]:G4})");
        var columns = new List<string> { "optimizer", "lr", "final (x, y)", "f", "f + (σ/2)‖x‖²",
            $"distance to argmin f ({r.Minimum[0]:G3}, {r.Minimum[1]:G3})", $"distance to argmin f + (σ/2)‖x‖² ({r.RegularisedMinimum[0]:G4}, {r.RegularisedMinimum[1]:G4})", "status" };
        if (s.Search) columns.Add("search: lr → final f + (σ/2)‖x‖²");
        foreach (var c in columns) table.AddColumn(Markup.Escape(c));
        foreach (var t in r.Trajectories)
        {
            int last = Array.FindLastIndex(t.X, double.IsFinite);
            var row = new List<string>
            {
                Markup.Escape(t.Optimizer), $"{t.LearningRate:G3}",
                last >= 0 ? $"({t.X[last]:F4}, {t.Y[last]:F4})" : "–",
                $"{t.FinalF:G6}", $"{t.FinalObjective:G6}", $"{t.DistanceToMinimum:G3}", $"{t.DistanceToRegularisedMinimum:G3}", Markup.Escape(t.Status),
            };
            if (s.Search && t.Search is { } pts)
                row.Add(Markup.Escape(string.Join("  ", pts.Select(p => $"{p.LearningRate:G2}→" + (p.Status == "ok" ? $"{p.FinalObjective:G3}" : p.Status.StartsWith("refused", StringComparison.Ordinal) ? "refused" : p.Status)))));
            table.AddRow(row.ToArray());
        }
        AnsiConsole.Write(table);
        if (r.Trajectories.Any(t => t.Status.StartsWith("refused", StringComparison.Ordinal) || t.Search?.Any(p => p.Status.StartsWith("refused", StringComparison.Ordinal)) == true))
            AnsiConsole.MarkupLine(Markup.Escape("refused: the stability check of preconditioned decay (η·σ·ε^(−1/2) ≥ 1; see afm theory stability). " +
                                                 "A lower --lr or --weight-decay, or a larger --eps (e.g. 1e-6), lifts it."));
    }

    private static double[] ParsePair(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 2) throw new ArgumentException($"--start '{text}': expected x,y.");
        return parts.Select(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"--start: '{p}' is not a number.")).ToArray();
    }

    private static double[] ParseGrid(string text)
    {
        var parts = text.Split(':', StringSplitOptions.TrimEntries);
        if (parts.Length != 3 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var min)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var max) || !int.TryParse(parts[2], out var count))
            throw new ArgumentException($"--grid '{text}': expected min:max:count, e.g. 1e-4:1:8.");
        return ToySettings.LogGrid(min, max, count);
    }
}
