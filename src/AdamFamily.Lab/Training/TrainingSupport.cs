using AdamFamily.Lab.Experiments;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Training;

/// <summary>What every trainer of the lab shares: the arm's optimizer, its step, the lr schedule and the weight norm.</summary>
public static class TrainingSupport
{
    /// <summary>The fused kernel's thread cap for the lab's optimizers (null = its default); run units pin it to their thread count.</summary>
    public static int? KernelThreads { get; set; }

    /// <summary>The arm's optimizer over the parameters; a non-finite gradient throws, so the trainer can record divergence.</summary>
    public static AfmdwOptimizer CreateOptimizer(ArmSpec arm, IEnumerable<Parameter> parameters)
        => CreateOptimizer(arm, new[] { new AfmdwOptimizer.ParamGroup(parameters) });

    /// <summary>The arm's optimizer over parameter groups (a group's own options, e.g. weight decay 0, override the arm's).</summary>
    public static AfmdwOptimizer CreateOptimizer(ArmSpec arm, IEnumerable<AfmdwOptimizer.ParamGroup> groups)
    {
        var (preset, options) = ArmGrammar.Parse(arm);
        var opt = Optimizers.Create(preset, groups, options);
        if (KernelThreads is { } kt) opt.KernelThreads = kt;
        opt.NonFinitePolicy = NonFinitePolicy.Throw;
        return opt;
    }

    /// <summary>
    /// The optimizer part of a training step, after backward: optional gradient clipping, the step (timed on
    /// <paramref name="optimizerClock"/>) and, on the epoch's last batch, the stationarity measure. Returns false
    /// when a gradient was non-finite (the step changed nothing and the run has diverged).
    /// </summary>
    public static bool Step(AfmdwOptimizer opt, IEnumerable<Parameter> parameters, double? clipGradNorm, bool lastOfEpoch,
        System.Diagnostics.Stopwatch optimizerClock, ref double stationarity)
    {
        // Clipping computes the total norm anyway: a finite one spares the step its own gradient check pass.
        if (clipGradNorm is { } clip) opt.NoteGradientNorm(nn.utils.clip_grad_norm_(parameters, clip));
        opt.CollectDiagnostics = lastOfEpoch;
        optimizerClock.Start();
        try { opt.step(); }
        catch (NonFiniteGradientException) { return false; }
        finally { optimizerClock.Stop(); opt.CollectDiagnostics = false; }
        if (lastOfEpoch && opt.LastDiagnostics is { } d) stationarity = d.Stationarity;
        return true;
    }

    /// <summary>
    /// The TorchSharp scheduler of the experiment's <see cref="ScheduleSpec"/>, to be stepped once per epoch
    /// (null for a constant lr). Multistep milestones are 0-based epoch indices.
    /// </summary>
    public static optim.lr_scheduler.LRScheduler? CreateScheduler(optim.Optimizer optimizer, ExperimentSettings s) => s.Schedule.Kind switch
    {
        "multistep" => optim.lr_scheduler.MultiStepLR(optimizer, s.Schedule.Milestones ?? Array.Empty<int>(), s.Schedule.Gamma),
        "cosine" => optim.lr_scheduler.CosineAnnealingLR(optimizer, s.Epochs, 0),
        _ => null,
    };

    /// <summary>Euclidean norm of all the parameters together, accumulated in float64.</summary>
    public static double WeightNorm(IEnumerable<Parameter> parameters)
    {
        using var _ = no_grad();
        double sum = 0;
        foreach (var p in parameters)
        {
            using var sq = p.to_type(ScalarType.Float64).square().sum();
            sum += sq.item<double>();
        }
        return Math.Sqrt(sum);
    }
}
