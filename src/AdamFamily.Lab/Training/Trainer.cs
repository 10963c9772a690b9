using System.Diagnostics;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Tasks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Training;

/// <summary>Optional callbacks into a run, for tests and tools that check pairing.</summary>
/// <param name="ModelCreated">The freshly built model, before training.</param>
/// <param name="Batch">(epoch, batch index, the batch) before its step.</param>
/// <param name="BatchDone">(epoch, batch index) after the batch's step, once its temporaries are freed.</param>
public sealed record TrainerObserver(Action<nn.Module>? ModelCreated = null, Action<int, int, TaskBatch>? Batch = null, Action<int, int>? BatchDone = null);

/// <summary>
/// Trains one arm with one seed on any <see cref="TrainingTask"/>: the one training loop of the lab. Seeded and
/// deterministic: the task's promises (same initial weights per seed, batches a function of (seed, epoch)) make arms
/// with the same seed paired. Per epoch: the training pass (loss, backward, optional clipping, the arm's step),
/// the experiment's lr schedule, then the metric on the test and (when there is one) the validation split. A loss,
/// gradient or evaluation that turns non-finite marks the run diverged at that epoch and stops it.
/// </summary>
public static class Trainer
{
    public static RunResult Run(TrainingTask task, ExperimentSettings s, ArmSpec arm, int seed,
        Action<RunProgress>? progress = null, CancellationToken cancel = default, TrainerObserver? observer = null)
    {
        using var scope = NewDisposeScope();
        var device = torch.device(s.Device);
        var model = task.CreateModel(seed);
        observer?.ModelCreated?.Invoke(model);
        task.MoveToDevice(model, device); // before the optimizer, so its state is created on the device
        var parameters = task.TrainableParameters(model);   // once: the step and the weight norm read them every batch / epoch
        using var opt = TrainingSupport.CreateOptimizer(arm, task.ParameterGroups(model));
        var scheduler = TrainingSupport.CreateScheduler(opt, s);
        double? clip = s.ClipGradNorm ?? task.ClipGradNorm;
        task.BeginRun(model, seed);

        var epochs = new List<EpochMetrics>();
        int batches = task.BatchesPerEpoch;
        long step = 0;
        for (int epoch = 0; epoch < s.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            var optClock = new Stopwatch();
            double lr = opt.Groups[0].LearningRate, lossSum = 0, metricSum = 0;
            long seen = 0;
            bool diverged = false;
            double stationarity = double.NaN;
            model.train();
            task.BeginEpoch(model, seed, epoch);
            try
            {
                int b = 0;
                foreach (var batch in task.TrainingBatches(seed, epoch))
                {
                    cancel.ThrowIfCancellationRequested();
                    using (var batchScope = NewDisposeScope())
                    {
                        batch.Input.MoveToOtherDisposeScope(batchScope); batch.Target.MoveToOtherDisposeScope(batchScope);
                        observer?.Batch?.Invoke(epoch, b, batch);
                        var onDevice = new TaskBatch(batch.Input.to(device), batch.Target.to(device));
                        opt.zero_grad();
                        var result = task.TrainingLoss(model, onDevice);
                        double lossValue = result.Loss.item<float>();
                        diverged = !double.IsFinite(lossValue);
                        if (!diverged)
                        {
                            result.Loss.backward();
                            diverged = !StepWithFactor(task, opt, parameters, clip, b == batches - 1, optClock, ref stationarity, step++, epoch);
                        }
                        if (!diverged)
                        {
                            lossSum += lossValue * result.Count;
                            metricSum += result.MetricSum;
                            seen += result.Count;
                        }
                    }
                    if (diverged) break;
                    observer?.BatchDone?.Invoke(epoch, b);
                    b++;   // not inside progress?.Invoke(...): its argument is not evaluated when nobody listens
                    progress?.Invoke(new RunProgress(arm.Name, seed, epoch, s.Epochs, b, batches));
                }
            }
            finally { task.EndEpoch(model); }
            scheduler?.step();

            var test = diverged ? new Evaluation(double.NaN, double.NaN) : task.Evaluate(model, DataSplit.Test);
            var valid = diverged || !task.HasValidation ? new Evaluation(double.NaN, double.NaN) : task.Evaluate(model, DataSplit.Validation);
            diverged |= !double.IsFinite(test.Loss) || !double.IsFinite(test.Metric)
                        || (task.HasValidation && (!double.IsFinite(valid.Loss) || !double.IsFinite(valid.Metric)));
            clock.Stop();
            double trainLoss = seen > 0 ? lossSum / seen : double.NaN;
            epochs.Add(new EpochMetrics(epoch + 1, trainLoss, seen > 0 ? task.TrainingMetric(trainLoss, metricSum, seen) : double.NaN,
                test.Loss, test.Metric, lr, TrainingSupport.WeightNorm(parameters), stationarity, clock.Elapsed.TotalSeconds, optClock.Elapsed.TotalSeconds, diverged,
                ValidMetric: valid.Metric));
            if (diverged) break;
        }
        return new RunResult(arm.Name, seed, epochs, WorstMetric: task.Metric.Worst);
    }

    // The task's per-step lr factor (if any) scales the lr the epoch schedule set, for this step only.
    private static bool StepWithFactor(TrainingTask task, AfmdwOptimizer opt, Parameter[] parameters, double? clip, bool lastOfEpoch,
        Stopwatch optClock, ref double stationarity, long step, int epoch)
    {
        if (task.LearningRateFactor(step, epoch) is not { } factor)
            return TrainingSupport.Step(opt, parameters, clip, lastOfEpoch, optClock, ref stationarity);
        if (!(factor >= 0 && double.IsFinite(factor)))
            throw new InvalidOperationException($"the task's learning-rate factor for step {step} is {factor}; it must be a finite number ≥ 0.");
        var scheduled = opt.Groups.Select(g => g.LearningRate).ToArray();
        for (int i = 0; i < scheduled.Length; i++) opt.Groups[i].LearningRate = scheduled[i] * factor;
        try { return TrainingSupport.Step(opt, parameters, clip, lastOfEpoch, optClock, ref stationarity); }
        finally { for (int i = 0; i < scheduled.Length; i++) opt.Groups[i].LearningRate = scheduled[i]; }
    }
}
