using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily.Tests;

/// <summary>
/// Reference trajectories for what the golden files do not cover: the <c>adabelief</c> and <c>yogi</c> presets (and
/// their AFMDW forms), <c>tau_schedule</c> and the lr-tied schedule. The expected values come from
/// <see cref="ScalarAfmdw"/>, a plain double-precision loop over the elements written from docs/algorithms.md §2
/// (it does not use UpdateRule.Plan or any library type), with each preset's defaults written out from §4 rather
/// than read from the library. Both execution paths are held to it over 25 steps with a learning rate that warms up
/// and then drops twice, so a wrong coefficient in the plan cannot pass by being shared by both paths.
/// </summary>
public class ReferenceTrajectoryTests
{
    private const int Steps = 25;
    private static readonly long[][] Shapes = { new[] { 3L, 4L }, new[] { 5L } };

    /// <summary>The learning rate in force at step k: warm-up over 4 steps, then η₀, ×0.1 from step 12, ×0.01 from step 20.</summary>
    private static double LearningRate(double lr0, int k) => k < 4 ? lr0 * (k + 1) / 4 : k < 12 ? lr0 : k < 20 ? lr0 * 0.1 : lr0 * 0.01;

    public static TheoryData<string, string, string> Cases() => new()
    {
        // preset, option string given to the library, the reference configuration (docs/algorithms.md §2–§4).
        { "adabelief", "rectify=false", "lr=1e-3 est=adabelief eps=1e-16 mode=outside decay=decoupled wd=0" },
        { "adabelief", "lr=1e-2,weight_decay=1e-2,rectify=false", "lr=1e-2 est=adabelief eps=1e-16 mode=outside decay=decoupled wd=1e-2" },
        { "adabelief", "betas=(0.8,0.99),eps=1e-10,rectify=false", "lr=1e-3 est=adabelief eps=1e-10 mode=outside decay=decoupled wd=0 b1=0.8 b2=0.99" },
        { "adabeliefd", "lr=1e-2", "lr=1e-2 est=adabelief eps=1e-8 mode=inside decay=preconditioned wd=5e-4" },
        { "yogi", "", "lr=1e-2 est=yogi eps=1e-3 mode=outside decay=decoupled wd=0 v0=1e-6" },
        { "yogi", "weight_decay=1e-2,initial_accumulator=1e-3", "lr=1e-2 est=yogi eps=1e-3 mode=outside decay=decoupled wd=1e-2 v0=1e-3" },
        { "yogid", "lr=1e-2", "lr=1e-2 est=yogi eps=1e-3 mode=inside decay=preconditioned wd=5e-4 v0=1e-6" },
        { "afmdw", "lr=1e-2,tau_schedule=diminishing T=3 p=0.6", "lr=1e-2 tau=dim:3:0.6" },
        { "afmdw", "lr=1e-2,estimator=amsgrad,theta_schedule=diminishing T=4 p=0.5,tau_schedule=diminishing T=2 p=0.8", "lr=1e-2 est=amsgrad theta=dim:4:0.5 tau=dim:2:0.8" },
        { "afmdw", "lr=1e-2,estimator=yogi,eps=1e-3,initial_accumulator=1e-6,tau_schedule=diminishing T=5 p=1", "lr=1e-2 est=yogi eps=1e-3 v0=1e-6 tau=dim:5:1" },
        { "afmdw", "lr=1e-2,theta_schedule=lr-tied", "lr=1e-2 theta=lr" },
        { "afmdw", "lr=1e-2,tau_schedule=lr-tied", "lr=1e-2 tau=lr" },
        { "afmdw", "lr=1e-2,theta_schedule=lr-tied,tau_schedule=lr-tied,decay=decoupled,weight_decay=1e-2,eps_mode=outside", "lr=1e-2 theta=lr tau=lr decay=decoupled wd=1e-2 mode=outside" },
        { "afmdw", "lr=1e-2,theta_schedule=lr-tied,nesterov=true,estimator=adabelief", "lr=1e-2 theta=lr nesterov est=adabelief" },
        { "afmdw", "lr=1e-2,theta_schedule=lr-tied,tau_schedule=diminishing T=3 p=0.5,decay=l2,weight_decay=1e-2,bias_correction=false", "lr=1e-2 theta=lr tau=dim:3:0.5 decay=l2 wd=1e-2 nobias" },
        { "afmdw", "lr=1e-2,tau_schedule=lr-tied,maximize=true", "lr=1e-2 tau=lr maximize" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BothPaths_FollowTheScalarReference(string preset, string options, string reference)
    {
        var config = ScalarAfmdw.Config.Parse(reference);
        var (initial, grads) = Inputs();
        var expected = ScalarAfmdw.Run(config, initial, grads, k => LearningRate(config.Lr, k));
        foreach (var path in new[] { ExecutionPath.Auto, ExecutionPath.TensorOps })
        {
            var actual = RunLibrary(preset, options, path, initial, grads, config.Lr);
            for (int k = 0; k < Steps; k++)
                for (int i = 0; i < Shapes.Length; i++)
                    for (int j = 0; j < expected[k][i].Length; j++)
                    {
                        double want = expected[k][i][j], got = actual[k][i][j];
                        if (!(Math.Abs(got - want) <= 1e-12 + 1e-10 * Math.Abs(want)))
                            Assert.Fail($"{preset} [{options}] on {path}: step {k + 1}, parameter {i}, element {j}: {got:R} vs reference {want:R}");
                    }
        }
    }

    /// <summary>The reference itself, on one hand-checkable step: AdaBelief from zero state, ε outside.</summary>
    [Fact]
    public void ScalarReference_FirstAdaBeliefStep_IsTheHandComputation()
    {
        // t = 1, m = v = 0: m = 0.1g; v = 0.001(g − 0.1g)² + ε; m̂ = g; v̂ = v/0.001; x ← x − η·m̂/(√v̂ + ε).
        double g = 0.5, x = 1.0, eps = 1e-16, lr = 1e-2;
        var config = ScalarAfmdw.Config.Parse("lr=1e-2 est=adabelief eps=1e-16 mode=outside decay=decoupled wd=0");
        var got = ScalarAfmdw.Run(config, new[] { new[] { x } }, new[] { new[] { new[] { g } } }, _ => lr)[0][0][0];
        double v = 0.001 * Math.Pow(0.9 * g, 2) + eps;
        Assert.Equal(x - lr * g / (Math.Sqrt(v / 0.001) + eps), got, 15);
    }

    private static (double[][] Initial, double[][][] Grads) Inputs()
    {
        var rng = new Random(2026);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        int[] sizes = Shapes.Select(s => (int)s.Aggregate(1L, (a, b) => a * b)).ToArray();
        var initial = sizes.Select(n => Enumerable.Range(0, n).Select(_ => Normal()).ToArray()).ToArray();
        // Every 7th gradient element is exactly 0, so zero-gradient coordinates (pure decay) are exercised too.
        var grads = Enumerable.Range(0, Steps).Select(k => sizes.Select(n => Enumerable.Range(0, n)
            .Select(j => (j + k) % 7 == 0 ? 0.0 : 0.5 * Normal()).ToArray()).ToArray()).ToArray();
        return (initial, grads);
    }

    private static double[][][] RunLibrary(string preset, string options, ExecutionPath path, double[][] initial, double[][][] grads, double lr0)
    {
        using var scope = NewDisposeScope();
        var ps = Shapes.Select((s, i) => new Parameter(tensor(initial[i], dtype: ScalarType.Float64).reshape(s))).ToArray();
        using var opt = Optimizers.Create(preset, ps, options);
        opt.ExecutionPath = path;
        Assert.Equal(lr0, opt.Groups[0].LearningRate); // the preset's default lr is what the reference assumes
        var trajectory = new double[Steps][][];
        for (int k = 0; k < Steps; k++)
        {
            opt.Groups[0].LearningRate = LearningRate(lr0, k);
            for (int i = 0; i < ps.Length; i++) ps[i].grad = tensor(grads[k][i], dtype: ScalarType.Float64).reshape(Shapes[i]);
            opt.step();
            Assert.Equal(path == ExecutionPath.Auto ? ps.Length : 0, opt.LastKernelParameters);
            trajectory[k] = ps.Select(p => p.detach().flatten().data<double>().ToArray()).ToArray();
        }
        return trajectory;
    }
}

/// <summary>
/// docs/algorithms.md §2 as a scalar loop in double precision, independent of the library: the test's own
/// statement of the AFMDW step (maximize, l2, first moment, the four estimators, β-products, bias correction,
/// heavy-ball or Nesterov direction, ε inside or outside, preconditioned / decoupled / l2 / no decay, and the
/// constant, diminishing and lr-tied moment schedules).
/// </summary>
internal static class ScalarAfmdw
{
    internal sealed record Config
    {
        public double Lr = 1e-3, Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8, WeightDecay = 5e-4, V0;
        public string Estimator = "adam", Decay = "preconditioned", EpsMode = "inside";
        public bool Nesterov, BiasCorrection = true, Maximize;
        public Func<double, long, double, double> Theta = (r, _, _) => r, Tau = (r, _, _) => r;

        /// <summary>Reads "lr=1e-2 est=yogi eps=1e-3 mode=outside decay=decoupled wd=1e-2 v0=1e-6 b1=.. b2=.. theta=lr tau=dim:T:p nesterov nobias maximize"; unset values are AdamD's (§4).</summary>
        public static Config Parse(string text)
        {
            var c = new Config();
            foreach (var token in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = token.Split('=', 2);
                string v = kv.Length == 2 ? kv[1] : "";
                double D() => double.Parse(v, CultureInfo.InvariantCulture);
                switch (kv[0])
                {
                    case "lr": c.Lr = D(); break;
                    case "b1": c.Beta1 = D(); break;
                    case "b2": c.Beta2 = D(); break;
                    case "eps": c.Eps = D(); break;
                    case "wd": c.WeightDecay = D(); break;
                    case "v0": c.V0 = D(); break;
                    case "est": c.Estimator = v; break;
                    case "decay": c.Decay = v; break;
                    case "mode": c.EpsMode = v; break;
                    case "nesterov": c.Nesterov = true; break;
                    case "nobias": c.BiasCorrection = false; break;
                    case "maximize": c.Maximize = true; break;
                    case "theta": c.Theta = Schedule(v); break;
                    case "tau": c.Tau = Schedule(v); break;
                    default: throw new ArgumentException($"unknown reference key '{token}'");
                }
            }
            return c;
        }

        // §2.4: constant θ₀; diminishing θ₀(1 + (t − 1)/T)^(−p); lr-tied θ₀·η_t/η₀.
        private static Func<double, long, double, double> Schedule(string v)
        {
            if (v == "lr") return (rate, _, lrRatio) => rate * lrRatio;
            var parts = v.Split(':');
            double T = double.Parse(parts[1], CultureInfo.InvariantCulture), p = double.Parse(parts[2], CultureInfo.InvariantCulture);
            return (rate, t, _) => rate * Math.Pow(1 + (t - 1) / T, -p);
        }
    }

    /// <summary>Runs the steps; returns every parameter after every step.</summary>
    public static double[][][] Run(Config c, double[][] initial, double[][][] grads, Func<int, double> lrAt)
    {
        var x = initial.Select(a => (double[])a.Clone()).ToArray();
        var m = x.Select(a => new double[a.Length]).ToArray();
        var v = x.Select(a => Enumerable.Repeat(c.V0, a.Length).ToArray()).ToArray();
        var vMax = x.Select(a => Enumerable.Repeat(c.V0, a.Length).ToArray()).ToArray();
        double b1Product = 1, b2Product = 1, lr0 = c.Lr; // η₀: the group's lr at construction
        var result = new double[grads.Length][][];
        for (int k = 0; k < grads.Length; k++)
        {
            long t = k + 1;
            double lr = lrAt(k), sigma = c.WeightDecay;
            double beta1 = 1 - c.Theta(1 - c.Beta1, t, lr / lr0);
            double beta2 = 1 - c.Tau(1 - c.Beta2, t, lr / lr0);
            b1Product *= beta1;
            b2Product *= beta2;
            double c1 = c.BiasCorrection ? 1 - b1Product : 1, c2 = c.BiasCorrection ? 1 - b2Product : 1;
            for (int i = 0; i < x.Length; i++)
                for (int j = 0; j < x[i].Length; j++)
                {
                    double xi = x[i][j], g = grads[k][i][j];
                    if (c.Maximize) g = -g;
                    if (c.Decay == "l2") g += sigma * xi;
                    double mi = beta1 * m[i][j] + (1 - beta1) * g;
                    m[i][j] = mi;
                    double u;
                    switch (c.Estimator)
                    {
                        case "adam": u = v[i][j] = beta2 * v[i][j] + (1 - beta2) * g * g; break;
                        case "amsgrad":
                            v[i][j] = beta2 * v[i][j] + (1 - beta2) * g * g;
                            u = vMax[i][j] = Math.Max(vMax[i][j], v[i][j]);
                            break;
                        case "yogi": u = v[i][j] = v[i][j] - (1 - beta2) * Math.Sign(v[i][j] - g * g) * g * g; break;
                        case "adabelief": u = v[i][j] = beta2 * v[i][j] + (1 - beta2) * (g - mi) * (g - mi) + c.Eps; break;
                        default: throw new ArgumentException(c.Estimator);
                    }
                    double d = !c.Nesterov ? mi / c1
                        : c.BiasCorrection ? beta1 * mi / (1 - b1Product * beta1) + (1 - beta1) * g / c1
                        : beta1 * mi + (1 - beta1) * g;
                    double h = c.EpsMode == "inside" ? 1 / Math.Sqrt(u / c2 + c.Eps) : 1 / (Math.Sqrt(u / c2) + c.Eps);
                    x[i][j] = c.Decay switch
                    {
                        "preconditioned" => xi - lr * h * (d + sigma * xi),
                        "decoupled" => xi - lr * (h * d + sigma * xi),
                        _ => xi - lr * h * d,
                    };
                }
            result[k] = x.Select(a => (double[])a.Clone()).ToArray();
        }
        return result;
    }
}
