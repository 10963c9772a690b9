using System.Diagnostics;
using AdamFamily.Lab.Data;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Training;

/// <summary>Optional callbacks into a run, for tests and tools that check pairing.</summary>
public sealed record TrainerObserver(Action<nn.Module<Tensor, Tensor>>? ModelCreated = null, Action<int, int, Tensor>? Batch = null);

/// <summary>
/// Trains one arm with one seed. Seeded and deterministic: the seed fixes the initial weights (the same in
/// every arm), the batch order of every epoch and the augmentation, so arms with the same seed are paired.
/// </summary>
public static class Trainer
{
    public static RunResult Run(ImageTask task, ExperimentSettings s, ArmSpec arm, int seed,
        Action<RunProgress>? progress = null, CancellationToken cancel = default, TrainerObserver? observer = null)
    {
        using var scope = NewDisposeScope();
        var device = torch.device(s.Device);
        var model = ModelFactory.Create(s.Model, task.Channels, task.Height, task.NumClasses, seed);
        observer?.ModelCreated?.Invoke(model);
        model.to(device); // before the optimizer, so its state is created on the device
        var parameters = model.parameters().ToArray();   // once: the step and the weight norm read them every batch / epoch
        using var opt = TrainingSupport.CreateOptimizer(arm, parameters);
        var scheduler = TrainingSupport.CreateScheduler(opt, s);

        var epochs = new List<EpochMetrics>();
        int batches = (task.Train.Count + s.BatchSize - 1) / s.BatchSize;
        for (int epoch = 0; epoch < s.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            var optClock = new Stopwatch();
            double lr = opt.Groups[0].LearningRate, lossSum = 0;
            long correct = 0, seen = 0;
            bool diverged = false;
            double stationarity = double.NaN;
            model.train();
            int b = 0;
            foreach (var (bx, by) in task.Train.Batches(epoch, s.BatchSize, seed))
            {
                cancel.ThrowIfCancellationRequested();
                using var batchScope = NewDisposeScope();
                observer?.Batch?.Invoke(epoch, b, by);
                var x = bx.to(device);
                var y = by.to(device);
                if (s.Augment)
                {
                    long augSeed = DeterministicRng.DeriveSeed(seed, epoch, b);
                    x = Transforms.RandomHorizontalFlip(Transforms.RandomCrop(x, s.CropPadding, augSeed, task.BlackPixel), augSeed + 1);
                }
                opt.zero_grad();
                var logits = model.call(x);
                var loss = nn.functional.cross_entropy(logits, y);
                double lossValue = loss.item<float>();
                if (!double.IsFinite(lossValue)) { diverged = true; break; }
                loss.backward();
                if (!TrainingSupport.Step(opt, parameters, s.ClipGradNorm, b == batches - 1, optClock, ref stationarity)) { diverged = true; break; }
                lossSum += lossValue * y.shape[0];
                correct += logits.argmax(1).eq(y).sum().item<long>();
                seen += y.shape[0];
                progress?.Invoke(new RunProgress(arm.Name, seed, epoch, s.Epochs, ++b, batches));
            }
            scheduler?.step();

            var (testLoss, testAcc) = diverged ? (double.NaN, double.NaN) : Evaluate(model, task.Test, s.BatchSize, device);
            var (validLoss, validAcc) = diverged || task.Validation is null ? (double.NaN, double.NaN) : Evaluate(model, task.Validation, s.BatchSize, device);
            diverged |= !double.IsFinite(testLoss) || (task.Validation is not null && !double.IsFinite(validLoss));
            clock.Stop();
            epochs.Add(new EpochMetrics(epoch + 1, seen > 0 ? lossSum / seen : double.NaN, seen > 0 ? 100.0 * correct / seen : double.NaN,
                testLoss, testAcc, lr, TrainingSupport.WeightNorm(parameters), stationarity, clock.Elapsed.TotalSeconds, optClock.Elapsed.TotalSeconds, diverged,
                ValidMetric: validAcc));
            if (diverged) break;
        }
        return new RunResult(arm.Name, seed, epochs, WorstMetric: 100.0 / task.NumClasses);
    }

    /// <summary>Mean cross-entropy and accuracy (percent) over a dataset, in evaluation mode.</summary>
    public static (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, LabDataset data, int batchSize, Device? device = null)
    {
        model.eval();
        using var _ = no_grad();
        double lossSum = 0; long correct = 0;
        foreach (var (x, y) in data.Batches(0, Math.Max(batchSize, 500), 0, shuffle: false))
        {
            using var scope = NewDisposeScope();
            var (xd, yd) = device is null ? (x, y) : (x.to(device), y.to(device));
            var logits = model.call(xd);
            lossSum += nn.functional.cross_entropy(logits, yd, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(yd).sum().item<long>();
        }
        return (lossSum / data.Count, 100.0 * correct / data.Count);
    }
}
