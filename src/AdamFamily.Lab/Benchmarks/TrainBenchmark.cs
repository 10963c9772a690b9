using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Lab.Benchmarks;

/// <summary><c>afm bench --train</c>: epochs of a 784-256-256-10 MLP on synthetic data with our AdamD and AdamW and TorchSharp's AdamW, interleaved.</summary>
public static class TrainBenchmark
{
    /// <summary>Times the arms; one result per arm.</summary>
    public static List<TrainResult> Run(BenchSettings s, Action<string> log)
    {
        const int batch = 128;
        int batches = s.TrainBatches;
        using var scope = NewDisposeScope();
        manual_seed(7);
        var x = randn(batches * batch, 784);
        using var teacher = randn(784, 10);
        var y = x.matmul(teacher).argmax(1); // labels a linear teacher can explain, so the loss goes down
        log($"train: MLP 784-256-256-10, {batches} batches of {batch}, {s.Epochs} timed epoch(s) after {s.WarmupEpochs} warm-up, arms interleaved epoch by epoch");

        var arms = new (string Name, string Impl, Func<IEnumerable<Parameter>, torch.optim.Optimizer> Make)[]
        {
            ("adamd", "AdamFamily", p => new AdamD(p) { KernelThreads = s.Threads, NonFinitePolicy = s.Policy }),
            ("adamw", "AdamFamily", p => new AdamW(p) { KernelThreads = s.Threads, NonFinitePolicy = s.Policy }),
            ("adamw", "TorchSharp", p => torch.optim.AdamW(p, lr: 1e-3, weight_decay: 1e-2)),
        };
        // Every arm starts from the same weights and sees the same batches. Epochs are interleaved (one of
        // each arm per round), so a machine whose speed drifts affects all arms alike.
        var models = new List<Sequential>();
        var optimizers = new List<torch.optim.Optimizer>();
        try
        {
            foreach (var arm in arms)
            {
                manual_seed(42);
                var model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10));
                models.Add(model);
                optimizers.Add(arm.Make(model.parameters().ToArray()));
            }
            var epochMs = arms.Select(_ => new List<double>()).ToArray();
            var stepMs = arms.Select(_ => new List<double>()).ToArray();
            var lastLoss = new double[arms.Length];
            for (int e = 0; e < s.WarmupEpochs + s.Epochs; e++)
            {
                for (int a = 0; a < arms.Length; a++)
                {
                    var (model, opt) = (models[a], optimizers[a]);
                    double stepTotal = 0;
                    long t0 = Stopwatch.GetTimestamp();
                    for (int b = 0; b < batches; b++)
                    {
                        using var inner = NewDisposeScope();
                        var xb = x.narrow(0, b * batch, batch);
                        var yb = y.narrow(0, b * batch, batch);
                        opt.zero_grad();
                        var loss = nn.functional.cross_entropy(model.forward(xb), yb);
                        loss.backward();
                        long s0 = Stopwatch.GetTimestamp();
                        opt.step();
                        stepTotal += Stopwatch.GetElapsedTime(s0).TotalMilliseconds;
                        if (b == batches - 1) lastLoss[a] = loss.item<float>();
                    }
                    double total = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    if (e >= s.WarmupEpochs) { epochMs[a].Add(total); stepMs[a].Add(stepTotal); }
                }
            }
            var results = new List<TrainResult>();
            for (int a = 0; a < arms.Length; a++)
            {
                var epoch = Stats.Of(epochMs[a]);
                var step = Stats.Of(stepMs[a]);
                log($"  {arms[a].Name} ({arms[a].Impl}): epoch {epoch.Median:F1} ms, optimizer {step.Median:F2} ms");
                results.Add(new TrainResult(arms[a].Name, arms[a].Impl, batches, epoch, step, step.Median / epoch.Median, lastLoss[a]));
            }
            return results;
        }
        finally
        {
            foreach (var o in optimizers) o.Dispose();
            foreach (var m in models) m.Dispose();
        }
    }
}
