using System.Security.Cryptography;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tasks;

/// <summary>
/// The check a task that is not the lab's own (a plugin, a user's model file) passes before anything is written: the model
/// builds for seed 0 within <see cref="Timeout"/>, twice with the same initial weights, with at least one trainable
/// floating-point parameter; one training batch goes forward with the declared output shape and backward with a finite
/// loss and finite gradients. The probe's model is thrown away; the task is left as it was.
/// </summary>
public static class TaskProbe
{
    /// <summary>
    /// How long each probe step (constructing a plugin task, building a model, one forward and backward pass) may take
    /// before it counts as hung: 120 s, or the environment variable <c>AFM_TASK_CHECK_TIMEOUT_S</c> (seconds).
    /// </summary>
    public static TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(
        double.TryParse(Environment.GetEnvironmentVariable("AFM_TASK_CHECK_TIMEOUT_S"), System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 && s < 86_400 ? s : 120);

    /// <summary>Probes <paramref name="task"/>; the message of a failure starts with <paramref name="owner"/> (the DLL and type, or the file).</summary>
    /// <exception cref="ArgumentException">The task breaks a promise of the contract, or throws; the message says which and names <paramref name="owner"/>.</exception>
    public static void Check(TrainingTask task, string owner)
    {
        var metric = Step(owner, "declaring its metric", () => task.Metric);
        if (metric is null) throw new ArgumentException($"{owner}: Metric is null; a task must declare the metric it is judged by.");
        metric.Check(owner);
        if (Step(owner, "counting its batches", () => task.BatchesPerEpoch) < 1)
            throw new ArgumentException($"{owner}: BatchesPerEpoch is {task.BatchesPerEpoch}; a task needs at least one training batch per epoch.");

        string first = Step(owner, "CreateModel(0)", () => { using var m = Build(task, owner); return WeightsHash(task, m, owner); });
        Step(owner, "CreateModel(0) a second time", () =>
        {
            using var scope = NewDisposeScope();
            using var model = Build(task, owner);
            if (WeightsHash(task, model, owner) != first)
                throw new ArgumentException($"{owner}: CreateModel(0) gave different initial weights on a second call; the same seed must give the same model in every arm (seed the model's initialisation from the seed).");
            ForwardBackward(task, model, owner);
            return 0;
        });
    }

    private static nn.Module Build(TrainingTask task, string owner) =>
        task.CreateModel(0) ?? throw new ArgumentException($"{owner}: CreateModel(0) returned null.");

    private static string WeightsHash(TrainingTask task, nn.Module model, string owner)
    {
        var ps = task.TrainableParameters(model);
        var floating = ps.Where(p => p.is_floating_point()).ToArray();
        if (floating.Length == 0)
            throw new ArgumentException($"{owner}: the model for seed 0 has no trainable floating-point parameter ({ps.Length} trainable in all); there is nothing for an optimizer to train " +
                                        "(a frozen or inference-optimized model keeps its weights as constants).");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var _ = no_grad();
        foreach (var p in floating)
        {
            using var flat = p.detach().to_type(ScalarType.Float32).contiguous().flatten();
            sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(flat.data<float>().ToArray().AsSpan()));
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    private static void ForwardBackward(TrainingTask task, nn.Module model, string owner)
    {
        var batch = task.TrainingBatches(0, 0).FirstOrDefault();
        if (batch.Input is null) throw new ArgumentException($"{owner}: TrainingBatches(0, 0) yielded no batch.");
        model.train();
        task.BeginEpoch(model, 0, 0);
        try
        {
            if (task.OutputShape is { } expected)
            {
                using var __ = no_grad();
                var output = model is nn.Module<Tensor, Tensor> m ? m.call(batch.Input) : null;
                if (output is not null && !output.shape.Skip(1).SequenceEqual(expected))
                    throw new ArgumentException($"{owner}: for an input batch of shape [{string.Join(", ", batch.Input.shape)}] the model's output has shape " +
                                                $"[{string.Join(", ", output.shape)}]; the task needs [N, {string.Join(", ", expected)}].");
                task.EndEpoch(model);
                task.BeginEpoch(model, 0, 0);
            }
            var loss = task.TrainingLoss(model, batch);
            if (loss.Loss is null) throw new ArgumentException($"{owner}: TrainingLoss returned no loss tensor.");
            if (loss.Loss.numel() != 1) throw new ArgumentException($"{owner}: the training loss has shape [{string.Join(", ", loss.Loss.shape)}]; it must be a scalar.");
            double value = loss.Loss.item<float>();
            if (!double.IsFinite(value)) throw new ArgumentException($"{owner}: the loss of the first training batch at seed 0 is {value}; it must be finite before any step.");
            loss.Loss.backward();
            var bad = task.TrainableParameters(model).FirstOrDefault(p => p.grad is { } g && !g.isfinite().all().item<bool>());
            if (bad is not null) throw new ArgumentException($"{owner}: the first backward pass gave a non-finite gradient (a parameter of shape [{string.Join(", ", bad.shape)}]).");
        }
        finally { task.EndEpoch(model); }
    }

    // Runs one probe step on a worker thread, bounded by Timeout; what the task throws becomes an ArgumentException naming it.
    private static T Step<T>(string owner, string what, Func<T> step)
    {
        T? result = default;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { result = step(); }
            catch (Exception e) { error = e; }
        }) { IsBackground = true, Name = "afm task probe" };
        thread.Start();
        if (!thread.Join(Timeout))
            throw new ArgumentException($"{owner}: {what} did not finish within {Timeout.TotalSeconds:0} s (the probe's limit); a task must not hang.");
        if (error is ArgumentException ours && ours.Message.StartsWith(owner, StringComparison.Ordinal)) throw ours;
        if (error is not null) throw new ArgumentException($"{owner}: {what} threw {error.GetType().Name}: {error.Message}", error);
        return result!;
    }
}
