using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Training;

namespace AdamFamily.Lab.Reports;

/// <summary>Writes a comparison's per-epoch metrics as TensorBoard event files (TorchSharp's SummaryWriter), one log dir per run.</summary>
public static class TensorBoardExport
{
    public static string Write(string dir)
    {
        var (s, runs, _) = ComparisonReport.Load(dir);
        var root = Path.Combine(dir, "tensorboard");
        foreach (var run in runs)
        {
            var logDir = Path.Combine(root, $"{run.Arm}-seed{run.Seed}");
            if (Directory.Exists(logDir)) Directory.Delete(logDir, recursive: true); // re-rendering must not duplicate events
            var writer = TorchSharp.torch.utils.tensorboard.SummaryWriter(logDir);
            foreach (var e in run.Epochs)
            {
                void Add(string tag, double v) { if (double.IsFinite(v)) writer.add_scalar(tag, (float)v, e.Epoch); }
                Add("loss/train", e.TrainLoss);
                Add("loss/test", e.TestLoss);
                Add($"{s.DeclaredMetric.Name}/train", e.TrainMetric);
                Add($"{s.DeclaredMetric.Name}/test", e.TestMetric);
                Add($"{s.DeclaredMetric.Name}/valid", e.ValidMetric);
                Add("optimizer/learning_rate", e.LearningRate);
                Add("optimizer/stationarity", e.Stationarity);
                Add("model/weight_norm", e.WeightNorm);
                Add("time/epoch_seconds", e.Seconds);
                Add("time/optimizer_seconds", e.OptimizerSeconds);
            }
        }
        return root;
    }
}
