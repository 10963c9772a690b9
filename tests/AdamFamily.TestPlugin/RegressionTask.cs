using AdamFamily.Lab.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.TestPlugin;

/// <summary>
/// A well-behaved task of a user's own: linear regression on generated data (y = X·w + noise), RMSE (lower is better),
/// worst = the RMSE of predicting the training mean. Options: rows (per split unit, default 256), features (8),
/// hidden (0 = linear model; else an MLP with that many hidden units).
/// </summary>
public class RegressionTask : TrainingTask
{
    private readonly Tensor _x, _y, _vx, _vy, _tx, _ty;
    private readonly int _batch, _features, _hidden;
    private readonly double _worst;

    public RegressionTask(TaskContext context)
    {
        int rows = int.Parse(context.Option("rows", "256"), System.Globalization.CultureInfo.InvariantCulture);
        _features = int.Parse(context.Option("features", "8"), System.Globalization.CultureInfo.InvariantCulture);
        _hidden = int.Parse(context.Option("hidden", "0"), System.Globalization.CultureInfo.InvariantCulture);
        if (rows < 8) throw new ArgumentException($"--task-option rows={rows}: at least 8 rows.");
        _batch = context.BatchSize;
        var g = new Generator(1234);   // the data is the same whatever the seed
        var w = randn(new long[] { _features, 1 }, generator: g);
        (Tensor, Tensor) Split(int n)
        {
            var x = randn(new long[] { n, _features }, generator: g);
            return (x, x.matmul(w) + 0.3 * randn(new long[] { n, 1 }, generator: g));
        }
        (_x, _y) = Split(rows);
        (_vx, _vy) = Split(rows / 4);
        (_tx, _ty) = Split(rows / 4);
        _worst = Math.Sqrt((_ty - _y.mean()).pow(2).mean().item<float>());
    }

    public override string Description => $"regression: {_x.shape[0]} training rows, {_features} features";
    public override TaskMetric Metric => new("RMSE", "", false, _worst, "the RMSE of predicting the training mean");
    public override bool HasValidation => true;
    public override int BatchesPerEpoch => (int)((_x.shape[0] + _batch - 1) / _batch);
    public override long[]? OutputShape => [1];

    public override nn.Module CreateModel(int seed)
    {
        torch.manual_seed(seed);
        return _hidden == 0
            ? nn.Sequential(nn.Linear(_features, 1))
            : nn.Sequential(nn.Linear(_features, _hidden), nn.ReLU(), nn.Linear(_hidden, 1));
    }

    public override IEnumerable<TaskBatch> TrainingBatches(int seed, int epoch)
    {
        var order = randperm(_x.shape[0], generator: new Generator((ulong)(seed * 100_003L + epoch)));
        for (long i = 0; i < _x.shape[0]; i += _batch)
        {
            using var idx = order.narrow(0, i, Math.Min(_batch, _x.shape[0] - i));
            yield return new TaskBatch(_x.index_select(0, idx), _y.index_select(0, idx));
        }
    }

    public override BatchLoss TrainingLoss(nn.Module model, TaskBatch batch)
    {
        var loss = nn.functional.mse_loss(((nn.Module<Tensor, Tensor>)model).call(batch.Input), batch.Target);
        return new BatchLoss(loss, batch.Input.shape[0]);
    }

    public override Evaluation Evaluate(nn.Module model, DataSplit split)
    {
        model.eval();
        using var _ = no_grad();
        var (x, y) = split == DataSplit.Test ? (_tx, _ty) : (_vx, _vy);
        double mse = nn.functional.mse_loss(((nn.Module<Tensor, Tensor>)model).call(x), y).item<float>();
        return new Evaluation(Math.Sqrt(mse), mse);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) foreach (var t in new[] { _x, _y, _vx, _vy, _tx, _ty }) t.Dispose();
        base.Dispose(disposing);
    }
}
