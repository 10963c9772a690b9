using AdamFamily.Lab.Experiments;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Training;

/// <summary>What every trainer of the lab shares: the lr schedule of an experiment and the weight norm.</summary>
public static class TrainingSupport
{
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
