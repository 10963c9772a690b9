using AdamFamily.Lab.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.TestPlugin;

/// <summary>Throws in its constructor.</summary>
public sealed class ThrowingTask : RegressionTask
{
    public ThrowingTask(TaskContext context) : base(context) => throw new InvalidOperationException("no data source configured");
}

/// <summary>Never returns from CreateModel.</summary>
public sealed class HangingModelTask(TaskContext context) : RegressionTask(context)
{
    public override nn.Module CreateModel(int seed)
    {
        while (true) Thread.Sleep(50);
    }
}

/// <summary>Builds a different model on every call, whatever the seed (forgot to seed the initialisation).</summary>
public sealed class UnseededModelTask(TaskContext context) : RegressionTask(context)
{
    private int _calls;
    public override nn.Module CreateModel(int seed)
    {
        torch.manual_seed(1000 + _calls++);
        return nn.Sequential(nn.Linear(8, 1));
    }
}

/// <summary>Its loss is NaN.</summary>
public sealed class NaNLossTask(TaskContext context) : RegressionTask(context)
{
    public override BatchLoss TrainingLoss(nn.Module model, TaskBatch batch)
    {
        var b = base.TrainingLoss(model, batch);
        return b with { Loss = b.Loss * double.NaN };
    }
}

/// <summary>Evaluates to NaN: a run of it must count as failed (the metric's worst value), never as a number.</summary>
public sealed class NaNMetricTask(TaskContext context) : RegressionTask(context)
{
    public override Evaluation Evaluate(nn.Module model, DataSplit split) => new(double.NaN, double.NaN);
}

/// <summary>Throws in the second epoch's batches: the run fails, the comparison records it.</summary>
public sealed class FailsInEpochTwoTask(TaskContext context) : RegressionTask(context)
{
    public override IEnumerable<TaskBatch> TrainingBatches(int seed, int epoch) =>
        epoch == 1 ? throw new IOException("the data server went away") : base.TrainingBatches(seed, epoch);
}

/// <summary>A metric without a finite worst value.</summary>
public sealed class NoWorstTask(TaskContext context) : RegressionTask(context)
{
    public override TaskMetric Metric => base.Metric with { Worst = double.PositiveInfinity };
}

/// <summary>Not public.</summary>
internal sealed class HiddenTask(TaskContext context) : RegressionTask(context);

/// <summary>Public, but not a task.</summary>
public sealed class NotATask;

/// <summary>A task whose constructor takes nothing the lab can give.</summary>
public sealed class WrongConstructorTask(int rows) : RegressionTask(new TaskContext(new AdamFamily.Lab.Experiments.ExperimentSettings { BatchSize = rows }));
