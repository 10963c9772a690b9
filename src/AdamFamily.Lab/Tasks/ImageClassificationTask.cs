using AdamFamily.Lab.Data;
using AdamFamily.Lab.Experiments;
using AdamFamily.Lab.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Tasks;

/// <summary>
/// Image classification on an <see cref="ImageTask"/> (Fashion-MNIST, CIFAR, the synthetic task, an image folder):
/// a model of <see cref="ModelFactory"/> built from the seed, cross-entropy, accuracy in percent (worst: chance), the
/// batch order of every epoch and the random crop + flip (when the experiment augments) derived from (seed, epoch,
/// batch). Every parameter takes the arm's weight decay, as the paper's protocols do. Owns the data.
/// </summary>
public sealed class ImageClassificationTask : TrainingTask
{
    private readonly ExperimentSettings _settings;

    /// <summary>Takes ownership of <paramref name="data"/>; the model, batch size and augmentation come from <paramref name="settings"/>.</summary>
    public ImageClassificationTask(ImageTask data, ExperimentSettings settings)
    {
        Data = data;
        _settings = settings;
        Metric = TaskMetric.Accuracy(data.NumClasses);
    }

    /// <summary>The splits.</summary>
    public ImageTask Data { get; }

    /// <inheritdoc />
    public override string Description => Data.ToString();

    /// <inheritdoc />
    public override TaskMetric Metric { get; }

    /// <inheritdoc />
    public override bool HasValidation => Data.Validation is not null;

    /// <inheritdoc />
    public override string ValidationDescription => $"the last {Data.Validation?.Count ?? 0} training examples (held out)";

    /// <inheritdoc />
    public override int BatchesPerEpoch => (Data.Train.Count + _settings.BatchSize - 1) / _settings.BatchSize;

    /// <summary>One logit per class.</summary>
    public override long[]? OutputShape => [Data.NumClasses];

    /// <inheritdoc />
    public override nn.Module CreateModel(int seed) => ModelFactory.Create(_settings.Model, Data.Channels, Data.Height, Data.NumClasses, seed);

    /// <summary>One group of every parameter, decayed with the arm's weight decay (the protocols' convention).</summary>
    public override IEnumerable<AfmdwOptimizer.ParamGroup> ParameterGroups(nn.Module model) =>
        new[] { new AfmdwOptimizer.ParamGroup(model.parameters()) };

    /// <inheritdoc />
    public override IEnumerable<TaskBatch> TrainingBatches(int seed, int epoch)
    {
        int b = 0;
        foreach (var (x, y) in Data.Batches(epoch, _settings.BatchSize, seed))
        {
            if (!_settings.Augment) { yield return new TaskBatch(x, y); b++; continue; }
            long augSeed = DeterministicRng.DeriveSeed(seed, epoch, b++);
            using var cropped = Transforms.RandomCrop(x, _settings.CropPadding, augSeed, Data.BlackPixel);
            x.Dispose();
            yield return new TaskBatch(Transforms.RandomHorizontalFlip(cropped, augSeed + 1), y);
        }
    }

    /// <inheritdoc />
    public override BatchLoss TrainingLoss(nn.Module model, TaskBatch batch)
    {
        var logits = ((nn.Module<Tensor, Tensor>)model).call(batch.Input);
        var loss = nn.functional.cross_entropy(logits, batch.Target);
        long correct = logits.argmax(1).eq(batch.Target).sum().item<long>();
        return new BatchLoss(loss, batch.Target.shape[0], 100.0 * correct);
    }

    /// <inheritdoc />
    public override Evaluation Evaluate(nn.Module model, DataSplit split)
    {
        var data = split == DataSplit.Test ? Data.Test : Data.Validation ?? throw new InvalidOperationException($"{Data.Name} has no validation split.");
        var (loss, accuracy) = Evaluate((nn.Module<Tensor, Tensor>)model, data, _settings.BatchSize, torch.device(_settings.Device));
        return new Evaluation(accuracy, loss);
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
            x.MoveToOtherDisposeScope(scope); y.MoveToOtherDisposeScope(scope);
            var (xd, yd) = device is null ? (x, y) : (x.to(device), y.to(device));
            var logits = model.call(xd);
            lossSum += nn.functional.cross_entropy(logits, yd, reduction: nn.Reduction.Sum).item<float>();
            correct += logits.argmax(1).eq(yd).sum().item<long>();
        }
        return (lossSum / data.Count, 100.0 * correct / data.Count);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) Data.Dispose();
        base.Dispose(disposing);
    }
}
