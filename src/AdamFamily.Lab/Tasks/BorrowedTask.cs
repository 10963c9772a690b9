using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tasks;

/// <summary>
/// A task the caller owns, handed to the runners (the library API): every member goes
/// to the caller's task, except that disposing this wrapper leaves the caller's task alone — the runners dispose what
/// they load, and the caller keeps using what they built.
/// </summary>
public sealed class BorrowedTask(TrainingTask inner) : TrainingTask
{
    /// <summary>The caller's task.</summary>
    public TrainingTask Inner { get; } = inner ?? throw new ArgumentNullException(nameof(inner));

    /// <inheritdoc />
    public override string Description => Inner.Description;
    /// <inheritdoc />
    public override TaskMetric Metric => Inner.Metric;
    /// <inheritdoc />
    public override IEnumerable<string> InputFiles => Inner.InputFiles;
    /// <inheritdoc />
    public override bool HasValidation => Inner.HasValidation;
    /// <inheritdoc />
    public override string ValidationDescription => Inner.ValidationDescription;
    /// <inheritdoc />
    public override int BatchesPerEpoch => Inner.BatchesPerEpoch;
    /// <inheritdoc />
    public override long[]? OutputShape => Inner.OutputShape;
    /// <inheritdoc />
    public override nn.Module CreateModel(int seed) => Inner.CreateModel(seed);
    /// <inheritdoc />
    public override void MoveToDevice(nn.Module model, Device device) => Inner.MoveToDevice(model, device);
    /// <inheritdoc />
    public override Parameter[] TrainableParameters(nn.Module model) => Inner.TrainableParameters(model);
    /// <inheritdoc />
    public override IEnumerable<AfmdwOptimizer.ParamGroup> ParameterGroups(nn.Module model) => Inner.ParameterGroups(model);
    /// <inheritdoc />
    public override void BeginRun(nn.Module model, int seed) => Inner.BeginRun(model, seed);
    /// <inheritdoc />
    public override void BeginEpoch(nn.Module model, int seed, int epoch) => Inner.BeginEpoch(model, seed, epoch);
    /// <inheritdoc />
    public override void EndEpoch(nn.Module model) => Inner.EndEpoch(model);
    /// <inheritdoc />
    public override IEnumerable<TaskBatch> TrainingBatches(int seed, int epoch) => Inner.TrainingBatches(seed, epoch);
    /// <inheritdoc />
    public override BatchLoss TrainingLoss(nn.Module model, TaskBatch batch) => Inner.TrainingLoss(model, batch);
    /// <inheritdoc />
    public override double TrainingMetric(double meanLoss, double metricSum, long count) => Inner.TrainingMetric(meanLoss, metricSum, count);
    /// <inheritdoc />
    public override Evaluation Evaluate(nn.Module model, DataSplit split) => Inner.Evaluate(model, split);
    /// <inheritdoc />
    public override double? ClipGradNorm => Inner.ClipGradNorm;
    /// <inheritdoc />
    public override double? LearningRateFactor(long step, int epoch) => Inner.LearningRateFactor(step, epoch);
}
