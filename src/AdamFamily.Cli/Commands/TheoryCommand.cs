using System.CommandLine;
using AdamFamily.Lab;
using AdamFamily.Lab.Theory;
using Spectre.Console;

namespace AdamFamily.Cli.Commands;

/// <summary>
/// <c>afm theory</c>: the paper's claims made visible on small problems (docs/algorithms.md §5 and §6):
/// <c>stationarity</c>, <c>sgd-limit</c> and <c>stability</c>. The computation is in AdamFamily.Lab.Theory;
/// this file parses options and prints the summaries.
/// </summary>
internal static class TheoryCommand
{
    public static Command Create()
    {
        var cmd = new Command("theory", "See the theory hold (or not): stationarity of the decay placements, the SGD limit, the stability bound.");
        cmd.Subcommands.Add(StationarityCommand());
        cmd.Subcommands.Add(SgdLimitCommand());
        cmd.Subcommands.Add(StabilityCommand());
        return cmd;
    }

    private static Option<string?> OutOption(string name) => new("--out") { Description = $"Folder for the plots (PNG, SVG) and the JSON (default runs/theory-{name})." };

    // ---- stationarity ------------------------------------------------------------------------------

    private static Command StationarityCommand()
    {
        var problems = new Option<string>("--problems") { Description = $"Comma-separated problems: {string.Join(", ", FullBatchProblem.Names)}.", DefaultValueFactory = _ => string.Join(",", FullBatchProblem.Names) };
        var steps = new Option<int>("--steps") { Description = "Full-batch steps per optimizer.", DefaultValueFactory = _ => 3000 };
        var lr = new Option<double?>("--lr") { Description = "Constant learning rate η for every problem (default: per problem, see the table)." };
        var eps = new Option<double?>("--eps") { Description = "ε inside the root for the AFMDW rules; the PyTorch presets get √ε outside (default: per problem)." };
        var wd = new Option<double?>("--weight-decay") { Description = "σ for every optimizer (default: per problem)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic data and the start.", DefaultValueFactory = _ => 0 };
        var outDir = OutOption("stationarity");
        var cmd = new Command("stationarity", "Full-batch AdamD, AdamW-placement AFMDW, AdamW and Adam+L2 from one start: the exact residual ‖∇f(x) + σx‖ per step.")
        {
            problems, steps, lr, eps, wd, seed, outDir,
        };
        cmd.SetAction(r =>
        {
            var s = new StationaritySettings
            {
                Problems = CommaList.Parse(r.GetValue(problems), "--problems"),
                Steps = r.GetValue(steps), Seed = r.GetValue(seed),
                LearningRate = r.GetValue(lr), Eps = r.GetValue(eps), WeightDecay = r.GetValue(wd),
            };
            foreach (var p in s.Problems) FullBatchProblem.Create(p).Dispose();
            var dir = r.GetValue(outDir) ?? Path.Combine("runs", "theory-stationarity");
            AdamFamily.Lab.LabFiles.CheckWritableFolder(dir, "--out");
            var result = Stationarity.Run(s, p => AnsiConsole.MarkupLine($"[grey]running {Markup.Escape(p)}...[/]"));
            var files = Stationarity.Save(result, dir);
            PrintStationarity(result);
            AnsiConsole.MarkupLine($"Plots and numbers: {Markup.Escape(Path.GetFullPath(dir))} ({files.Count} files)");
            return 0;
        });
        return cmd;
    }

    private static void PrintStationarity(StationarityResult result)
    {
        foreach (var p in result.Problems)
        {
            string bound = $"η·ε^(−1/2) = {p.StepBound:G3}" + (p.StepBoundTimesL is { } sl ? $", ·L = {sl:G3} (L = {p.GradientLipschitz:G3}; GD-stable if < 2)" : "") +
                           $", η·σ·ε^(−1/2) = {p.DecayFactor:G3} (< 1 needed)";
            var table = new Table().Border(TableBorder.Rounded)
                .Title($"[bold]{Markup.Escape(p.Problem)}[/]: {Markup.Escape(p.Description)}");
            table.Caption(Markup.Escape($"{result.Settings.Steps} steps, η = {p.LearningRate:G3}, ε = {p.Eps:G3} (√ε outside for the PyTorch presets), σ = {p.WeightDecay:G3}; {bound}"));
            foreach (var c in new[] { "optimizer", "options", "final ‖∇f+σx‖", "median last 10%", "min", "‖σ(1−H⁻¹)⊙x‖ predicted", "g(x) final", "‖x‖" })
                table.AddColumn(Markup.Escape(c));
            foreach (var run in p.Runs)
                table.AddRow(Markup.Escape(run.Label), Markup.Escape($"{run.Optimizer}:{run.Options}"), $"{run.FinalResidual:E2}", $"{run.TailMedianResidual:E2}", $"{run.MinResidual:E2}",
                    run.PredictedPlateau is { } pp ? $"{pp:E2}" : "–", $"{run.FinalObjective:F6}", $"{run.FinalNorm:F3}");
            AnsiConsole.Write(table);
            var d = p.Runs.FirstOrDefault(x => x.Optimizer == "adamd");
            var w = p.Runs.FirstOrDefault(x => x.Optimizer == "afmdw");
            if (d is not null && w is not null)
                AnsiConsole.MarkupLine(Markup.Escape($"{p.Problem}: median of the last 10% of steps, AdamD {d.TailMedianResidual:E2} vs AdamW's placement {w.TailMedianResidual:E2} " +
                    $"({w.TailMedianResidual / d.TailMedianResidual:G3}× higher); " +
                    string.Join(", ", p.Runs.Where(x => x != d && x != w).Select(x => $"{x.Label} {x.TailMedianResidual:E2}")) + "."));
        }
        AnsiConsole.MarkupLine("H = (v̂ + ε)^(−1/2) ≤ ε^(−1/2) always (v̂ ≥ 0), so AdamD's step is at most η·ε^(−1/2) times its direction: that bound is stable when " +
                               "η·ε^(−1/2)·L < 2 (shown for the smooth problem) and η·σ·ε^(−1/2) < 1 (the library's own check). It is a bound, not where H settles: " +
                               "near a solution the moments still see ∇f(x*) = −σx* ≠ 0, so v̂ stays positive and H below ε^(−1/2).");
        AnsiConsole.MarkupLine("Every fixed point of the preconditioned placement (AdamD) has ∇f(x) + σx = 0; AdamW's placement settles near ‖σ(1 − H⁻¹)⊙x‖ instead. " +
                               "Adam with L2 feeds g + σx to its moments, so its fixed points also have ∇f(x) + σx = 0. On the nonsmooth problems the residual " +
                               "uses the autograd (sub)gradient at x, which jumps at kinks: a constant step leaves a floor there.");
    }

    // ---- sgd-limit ---------------------------------------------------------------------------------

    private static Command SgdLimitCommand()
    {
        var d = new SgdLimitSettings();
        var steps = new Option<int>("--steps") { Description = "Steps.", DefaultValueFactory = _ => d.Steps };
        var lr = new Option<double>("--lr") { Description = "AdamD's constant learning rate η.", DefaultValueFactory = _ => d.LearningRate };
        var eps = new Option<double>("--eps") { Description = "ε (inside the root).", DefaultValueFactory = _ => d.Eps };
        var wd = new Option<double>("--weight-decay") { Description = "σ (> 0).", DefaultValueFactory = _ => d.WeightDecay };
        var theta = new Option<double>("--theta0") { Description = "θ₀ = 1 − β₁.", DefaultValueFactory = _ => d.Theta0 };
        var t = new Option<double>("--T") { Description = "T of the diminishing schedule θ_t = θ₀(1 + (t − 1)/T)^(−p).", DefaultValueFactory = _ => d.ScheduleT };
        var p = new Option<double>("--p") { Description = "p of the diminishing schedule.", DefaultValueFactory = _ => d.ScheduleP };
        var est = new Option<string>("--estimators") { Description = "Comma-separated second-moment estimators: adam, yogi, amsgrad, adabelief.", DefaultValueFactory = _ => string.Join(",", d.Estimators) };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic data and the start.", DefaultValueFactory = _ => 0 };
        var outDir = OutOption("sgd-limit");
        var cmd = new Command("sgd-limit", "AdamD with a diminishing first-moment schedule next to SGD on f + (σ/2)‖x‖² with step θ_t/σ.")
        {
            steps, lr, eps, wd, theta, t, p, est, seed, outDir,
        };
        cmd.SetAction(r =>
        {
            var s = new SgdLimitSettings
            {
                Steps = r.GetValue(steps), LearningRate = r.GetValue(lr), Eps = r.GetValue(eps), WeightDecay = r.GetValue(wd),
                Theta0 = r.GetValue(theta), ScheduleT = r.GetValue(t), ScheduleP = r.GetValue(p), Seed = r.GetValue(seed),
                Estimators = CommaList.Parse(r.GetValue(est), "--estimators"),
            };
            foreach (var e in s.Estimators) SgdLimit.PresetOf(e);
            var dir = r.GetValue(outDir) ?? Path.Combine("runs", "theory-sgd-limit");
            AdamFamily.Lab.LabFiles.CheckWritableFolder(dir, "--out");
            var result = SgdLimit.Run(s);
            var files = SgdLimit.Save(result, dir);
            PrintSgdLimit(result);
            AnsiConsole.MarkupLine($"Plots and numbers: {Markup.Escape(Path.GetFullPath(dir))} ({files.Count} files)");
            return 0;
        });
        return cmd;
    }

    private static void PrintSgdLimit(SgdLimitResult r)
    {
        var s = r.Settings;
        int n = s.Steps;
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]SGD limit[/]: AdamD (constant η, diminishing θ_t) vs SGD on g = f + (σ/2)‖x‖² with step ρ_t/σ, same start");
        table.Caption(Markup.Escape(
            $"{r.Problem}, L = {r.GradientLipschitz:G3}; η = {s.LearningRate:G3}, σ = {s.WeightDecay:G3}, ε = {s.Eps:G3}, θ_t = {s.Theta0:G3}·(1 + (t−1)/{s.ScheduleT:G3})^(−{s.ScheduleP:G3}); " +
            $"η·σ·ε^(−1/2) = {r.TrackingFactor:G3} (< 1: stable, and the fraction of the way to −m̂/σ that x moves per step when v ≪ ε). " +
            $"ρ_t = θ_t/(1 − Π(1−θ_s)) → θ_t. ‖x_SGD − x*‖ at t = {n / 4}, {n}: {r.SgdToMinimum[n / 4]:E2}, {r.SgdToMinimum[n]:E2}."));
        foreach (var c in new[] { "estimator", $"‖xA − xS‖ @{n / 4}", $"@{n / 2}", $"@{n}", $"÷ ‖xS − x*‖ @{n / 4} → {n}", $"|g(xA) − g(xS)| @{n}", $"step deviation @{n / 4} → {n}", $"‖xA + m̂/σ‖ @{n}", $"‖xA − xS(literal θ/σ)‖ @{n}" })
            table.AddColumn(Markup.Escape(c));
        foreach (var run in r.Runs)
            table.AddRow(Markup.Escape($"{run.Estimator} ({run.Optimizer})"), $"{run.DistanceQuarter:E2}", $"{run.DistanceHalf:E2}", $"{run.DistanceFinal:E2}",
                $"{run.RelativeQuarter:E2} → {run.RelativeFinal:E2}", $"{run.ObjectiveGapFinal:E2}", $"{run.StepDeviationQuarter:E2} → {run.StepDeviationFinal:E2}",
                $"{run.TrackingFinal:E2}", $"{run.DistanceLiteralFinal:E2}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape("xA: AdamD; xS: the library's SGD (weight_decay = σ) with lr = ρ_t/σ from the same x₀. " + string.Join(" ", SgdLimit.Conclusion(r))));
    }

    // ---- stability ---------------------------------------------------------------------------------

    private static Command StabilityCommand()
    {
        var d = new StabilitySettings();
        var eps = new Option<double>("--eps") { Description = "ε (inside the root; AdamD's default).", DefaultValueFactory = _ => d.Eps };
        var wd = new Option<double>("--weight-decay") { Description = "σ (AdamD's default).", DefaultValueFactory = _ => d.WeightDecay };
        var steps = new Option<int>("--steps") { Description = "Steps of the overshoot runs.", DefaultValueFactory = _ => d.Steps };
        var factors = new Option<string>("--factors") { Description = "Comma-separated factors c = η·σ·ε^(−1/2) to plot.", DefaultValueFactory = _ => string.Join(",", d.Factors.Select(TheoryCommon.F)) };
        var outDir = OutOption("stability");
        var cmd = new Command("stability", "Preconditioned decay near and past η·σ·ε^(−1/2) = 1: the overshoot with the check off, the refusal with it on.")
        {
            eps, wd, steps, factors, outDir,
        };
        cmd.SetAction(r =>
        {
            var f = CommaList.Parse(r.GetValue(factors), "--factors")
                .Select(x => double.TryParse(x, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 ? v
                    : throw new ArgumentException($"--factors: '{x}' is not a positive number.")).ToArray();
            var s = new StabilitySettings { Eps = r.GetValue(eps), WeightDecay = r.GetValue(wd), Steps = r.GetValue(steps), Factors = f };
            Stability.Validate(s);   // before --out is created
            var dir = r.GetValue(outDir) ?? Path.Combine("runs", "theory-stability");
            AdamFamily.Lab.LabFiles.CheckWritableFolder(dir, "--out");
            var result = Stability.Run(s);
            var files = Stability.Save(result, dir);
            PrintStability(result);
            AnsiConsole.MarkupLine($"Plots and numbers: {Markup.Escape(Path.GetFullPath(dir))} ({files.Count} files)");
            return 0;
        });
        return cmd;
    }

    private static void PrintStability(StabilityResult r)
    {
        var s = r.Settings;
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]Stability of preconditioned decay[/]: AdamD, a coordinate with zero gradient, ε = {s.Eps:G3}, σ = {s.WeightDecay:G3} (bound: η < {r.MaxLearningRate:G6})");
        foreach (var c in new[] { "c = η·σ·ε^(−1/2)", "η", "check off: |x_T|/|x₀|", "predicted |1 − c|^T", "sign flips", "max |x_t − (1−c)^t·x₀|/|x₀|" })
            table.AddColumn(Markup.Escape(c));
        foreach (var run in r.Runs)
            table.AddRow($"{run.Factor:G4}", $"{run.LearningRate:G6}", $"{run.FinalRatio:E3}", $"{Math.Pow(Math.Abs(1 - run.Factor), s.Steps):E3}", $"{run.SignFlips}/{s.Steps}", $"{run.MaxDeviationFromPrediction:E1}");
        table.Caption(Markup.Escape($"T = {s.Steps} steps with stability_check=false. c < 1: monotone decay; c = 1: lands on 0; 1 < c < 2: overshoots and shrinks; c > 2: overshoots and grows."));
        AnsiConsole.Write(table);

        var checks = new Table().Border(TableBorder.Rounded).Title("[bold]The check on[/] (stability_check=true, the default)");
        foreach (var c in new[] { "c requested", "η", "c as the library computes it", "result" })
            checks.AddColumn(Markup.Escape(c));
        foreach (var row in r.Checks)
            checks.AddRow($"{row.Factor:G4}", $"{row.LearningRate:R}", $"{row.LibraryFactor:R}", row.Constructed ? "[green]constructs[/]" : "[red]refused[/] (UnstableDecayException)");
        AnsiConsole.Write(checks);
        var refusal = r.Checks.FirstOrDefault(c => !c.Constructed);
        if (refusal?.Message is { } m) AnsiConsole.MarkupLine($"[bold]Message at c = {refusal.Factor:G4}:[/] {Markup.Escape(m)}");
        if (r.LearningRateChangeMessage is { } lm) AnsiConsole.MarkupLine($"[bold]At a learning-rate change[/] (built at c = 0.9, lr raised to c = 1.5 after one step): {Markup.Escape(lm)}");
        else AnsiConsole.MarkupLine("[red]The check did not fire at the learning-rate change.[/]");
    }
}
