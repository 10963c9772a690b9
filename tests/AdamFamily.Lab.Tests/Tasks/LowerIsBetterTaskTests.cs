using AdamFamily.Lab.Data;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Statistics;
using AdamFamily.Lab.Tasks;
using AdamFamily.Lab.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tests.Tasks;

/// <summary>
/// A task that is none of the built-in ones, with a lower-is-better metric (RMSE), through the contract, the one trainer
/// and the summary: the verdict's direction, the sign of "better" and the worst value of a diverged run all follow the
/// task's declaration.
/// </summary>
[Collection(TorchRngCollection.Name)]
public class LowerIsBetterTaskTests
{
    /// <summary>y = 3·x1 − 2·x2 + noise; a linear model; RMSE; worst = the RMSE of predicting the training mean.</summary>
    private sealed class LinearRegressionTask : TrainingTask
    {
        private readonly Tensor _x, _y, _vx, _vy, _tx, _ty;
        public LinearRegressionTask()
        {
            using var scope = NewDisposeScope();
            var g = new Generator(123);
            Tensor Make(int n, out Tensor y)
            {
                var x = randn(new long[] { n, 2 }, generator: g);
                y = (3 * x[.., 0] - 2 * x[.., 1] + 0.1 * randn(new long[] { n }, generator: g)).unsqueeze(1).DetachFromDisposeScope();
                return x.DetachFromDisposeScope();
            }
            _x = Make(256, out _y); _vx = Make(64, out _vy); _tx = Make(64, out _ty);
            TrainMean = _y.mean().item<float>();
            double worst = Math.Sqrt((_ty - TrainMean).square().mean().item<float>());
            Metric = new TaskMetric("RMSE", "", false, worst, "the RMSE of predicting the training mean");
        }
        public float TrainMean { get; }
        public Tensor TestTargets => _ty;
        public override string Description => "linear regression";
        public override TaskMetric Metric { get; }
        public override bool HasValidation => true;
        public override int BatchesPerEpoch => 8;
        public override long[]? OutputShape => [1];
        public override nn.Module CreateModel(int seed)
        {
            manual_seed(seed);
            return nn.Linear(2, 1);
        }
        public override IEnumerable<TaskBatch> TrainingBatches(int seed, int epoch)
        {
            var order = new DeterministicRng(seed, stream: epoch).Permutation(256);
            for (int b = 0; b < 8; b++)
            {
                using var idx = tensor(order.Skip(b * 32).Take(32).Select(i => (long)i).ToArray());
                yield return new TaskBatch(_x.index_select(0, idx), _y.index_select(0, idx));
            }
        }
        public override BatchLoss TrainingLoss(nn.Module model, TaskBatch batch) =>
            new(nn.functional.mse_loss(((nn.Module<Tensor, Tensor>)model).call(batch.Input), batch.Target), batch.Target.shape[0]);
        public override double TrainingMetric(double meanLoss, double metricSum, long count) => Math.Sqrt(meanLoss);
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
            foreach (var t in new[] { _x, _y, _vx, _vy, _tx, _ty }) t.Dispose();
            base.Dispose(disposing);
        }
    }

    [Fact]
    public void VerdictsWorstValuesAndSigns_FollowTheTasksDeclaration()
    {
        using var task = new LinearRegressionTask();
        TaskProbe.Check(task, "LinearRegressionTask");
        int[] seeds = [0, 1, 2, 3, 4, 5, 6];
        var s = new ExperimentSettings
        {
            Task = "synthetic", Epochs = 2, Seeds = seeds, Margin = 0.1,
            Arms = [new ArmSpec("slow", "sgd:lr=0.02"), new ArmSpec("fast", "sgd:lr=0.1"), new ArmSpec("wild", "sgd:lr=1e6")],
        };
        var declared = ComparisonRunner.Declare(s, task);
        Assert.False(declared.HigherIsBetter);
        Assert.Equal("test RMSE", declared.MetricName);
        var runs = seeds.SelectMany(seed => s.Arms.Select(a => Trainer.Run(task, declared, a, seed, _ => { }))).ToList();
        Assert.All(runs.Where(r => r.Arm == "wild"), r => Assert.True(r.Diverged));
        Assert.All(runs.Where(r => r.Arm != "wild"), r => Assert.False(r.Diverged));

        var summary = ComparisonSummary.From(declared, runs);
        // Worst: the RMSE of the training mean on the test targets, computed here from the data.
        double[] yt = task.TestTargets.data<float>().ToArray().Select(v => (double)v).ToArray();
        double worst = Math.Sqrt(yt.Average(v => (v - task.TrainMean) * (v - task.TrainMean)));
        Assert.Equal(worst, summary.Statistics!.WorstValue, 5);
        Assert.Contains("the RMSE of predicting the training mean", summary.Statistics.Divergence);
        var wild = summary.Arms.Single(a => a.Arm == "wild");
        Assert.All(wild.FinalBySeed, v => Assert.Equal(worst, v, 5));

        var slow = summary.Arms.Single(a => a.Arm == "slow").FinalBySeed;
        var fast = summary.Arms.Single(a => a.Arm == "fast").FinalBySeed;
        Assert.All(seeds, i => Assert.True(fast[i] < slow[i] && slow[i] < worst, $"seed {i}: fast {fast[i]}, slow {slow[i]}, worst {worst}"));
        // Every one of 7 pairs on one side: exact two-sided sign-flip p = 2/2^7; Holm over 2 arms doubles the smaller (equal) p.
        var vsFast = summary.Versus.Single(v => v.Arm == "fast");
        var vsWild = summary.Versus.Single(v => v.Arm == "wild");
        Assert.Equal(2.0 / 128, vsFast.PValue, 12);
        Assert.Equal(4.0 / 128, vsFast.AdjustedPValue, 12);
        Assert.Equal(Enumerable.Range(0, 7).Average(i => fast[i] - slow[i]), vsFast.MeanDifference, 9);
        Assert.True(vsFast.MeanDifference < 0);                 // lower RMSE...
        Assert.StartsWith("better", vsFast.Verdict);            // ...is better
        Assert.True(vsWild.MeanDifference > 0);
        Assert.StartsWith("worse", vsWild.Verdict);
        Assert.Equal("no", vsWild.NonInferior);
    }
}
