// AdamFamily sample: train a small classifier with AdamD, as a user of the NuGet package would.
// Exit codes: 0 the loss fell as expected, 1 it did not (the check this sample exists for), 3 an unexpected error.
using System.Reflection;
using AdamFamily;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

try
{
    var version = typeof(AdamD).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
    Console.WriteLine($"AdamFamily {version}");

    // Three overlapping Gaussian blobs in 8 dimensions, 3 classes.
    manual_seed(1);
    var gen = new Generator(7);
    const int n = 600, dims = 8, classes = 3;
    using var centers = randn(classes, dims, generator: gen);
    using var labels = randint(classes, new long[] { n }, generator: gen);
    using var inputs = centers.index_select(0, labels) + randn(n, dims, generator: gen);

    var model = Sequential(("hidden", Linear(dims, 32)), ("relu", ReLU()), ("out", Linear(32, classes)));

    // AdamD: weight decay on the weights only (biases get none), lr ×0.1 for the last epochs.
    using var optimizer = new AdamD(ParameterGroups.DecayAndNoDecay(model),
        new AfmdwOptions { LearningRate = 3e-3, WeightDecay = 5e-4 });
    var scheduler = optim.lr_scheduler.MultiStepLR(optimizer, new[] { 15 }, 0.1);

    double Loss()
    {
        using var _ = no_grad();
        using var loss = functional.cross_entropy(model.call(inputs), labels);
        return loss.item<float>();
    }

    double initial = Loss();
    Console.WriteLine($"epoch  0  loss {initial:F4}");
    const int epochs = 20, batch = 50;
    for (int epoch = 1; epoch <= epochs; epoch++)
    {
        using var order = randperm(n, generator: gen);
        for (int start = 0; start < n; start += batch)
        {
            using var scope = NewDisposeScope();
            var idx = order[start..(start + batch)];
            optimizer.zero_grad();
            functional.cross_entropy(model.call(inputs.index_select(0, idx)), labels.index_select(0, idx)).backward();
            optimizer.step();
        }
        scheduler.step();
        if (epoch % 5 == 0) Console.WriteLine($"epoch {epoch,2}  loss {Loss():F4}  lr {optimizer.Groups[0].LearningRate:G2}");
    }

    double final = Loss();
    using var predicted = model.call(inputs).argmax(1);
    using var correct = predicted.eq(labels).sum();
    double accuracy = correct.item<long>() / (double)n;
    Console.WriteLine($"loss {initial:F4} → {final:F4}, training accuracy {accuracy:P1}");
    if (!(final < 0.5 * initial) || !(accuracy > 0.8))
    {
        Console.Error.WriteLine($"FAILED: expected the loss to fall below half its initial value and accuracy above 80% (loss {initial:F4} → {final:F4}, accuracy {accuracy:P1}).");
        return 1;
    }

    // Checkpoint round trip: a fresh optimizer loaded from the file takes the same next step as the original.
    var path = Path.Combine(Path.GetTempPath(), $"adamfamily-sample-{Environment.ProcessId}.ckpt");
    try
    {
        optimizer.SaveCheckpoint(path);
        var weights = model.parameters().Select(p => p.detach().clone()).ToArray();
        using var resumed = new AdamD(ParameterGroups.DecayAndNoDecay(model), new AfmdwOptions { LearningRate = 3e-3, WeightDecay = 5e-4 });
        resumed.LoadCheckpoint(path);
        float[] Step(AfmdwOptimizer opt)
        {
            using (no_grad()) foreach (var (p, w) in model.parameters().Zip(weights)) p.copy_(w);
            opt.zero_grad();
            functional.cross_entropy(model.call(inputs), labels).backward();
            opt.step();
            return model.parameters().SelectMany(p => p.detach().to_type(ScalarType.Float32).data<float>().ToArray()).ToArray();
        }
        var first = model.parameters().First();
        long savedStep = optimizer.StateOf(first).Step;
        float[] original = Step(optimizer), restored = Step(resumed);
        if (!original.SequenceEqual(restored) || resumed.StateOf(first).Step != savedStep + 1)
        {
            Console.Error.WriteLine("FAILED: the optimizer loaded from the checkpoint did not take the same next step as the original.");
            return 1;
        }
        Console.WriteLine("checkpoint: saved, loaded into a fresh optimizer, identical next step");
    }
    finally { File.Delete(path); }

    Console.WriteLine("ok: AdamD trained the model");
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"internal error: {e}");
    return 3;
}
