using TorchSharp;
using static TorchSharp.torch;

namespace AdamFamily.Golden;

/// <summary>
/// One reference trajectory: an optimizer, its options, initial parameters, the gradient at every step
/// and the parameters after every step. The file format is documented in docs/golden-format.md; users
/// export such files from their PyTorch runs and check them with <c>afm parity</c>.
/// </summary>
/// <param name="Name">The case's name.</param>
/// <param name="Optimizer">The reference optimizer (PyTorch class name, or Afmdw).</param>
/// <param name="Options">Its options as option-string key/value pairs.</param>
/// <param name="Dtype">float32 or float64.</param>
/// <param name="Shapes">The parameters' shapes.</param>
/// <param name="Initial">The parameters' initial values, flattened.</param>
/// <param name="Grads">The gradient of every parameter at every step.</param>
/// <param name="Lrs">The learning rate of every step.</param>
/// <param name="Trajectory">The parameters after every step.</param>
public sealed record TrajectoryCase(
    string Name, string Optimizer, IReadOnlyList<KeyValuePair<string, string>> Options, string Dtype,
    long[][] Shapes, double[][] Initial, double[][][] Grads, double[] Lrs, double[][][] Trajectory)
{
    /// <summary>The number of steps.</summary>
    public int Steps => Grads.Length;
    /// <summary>The case's dtype as a TorchSharp scalar type.</summary>
    public ScalarType ScalarType => Dtype == "float32" ? ScalarType.Float32 : ScalarType.Float64;

    /// <summary>The tolerances of the golden format: |got − expected| ≤ atol + rtol·|expected|.</summary>
    public (double Rtol, double Atol) Tolerance => Dtype == "float32" ? (1e-5, 1e-6) : (1e-10, 1e-12);

    /// <summary>The library preset that reproduces this case's optimizer (PyTorch class name or Afmdw).</summary>
    public string Preset => Optimizer switch
    {
        "Adam" => "adam", "AdamW" => "adamw", "NAdam" => "nadam", "RAdam" => "radam",
        "Adamax" => "adamax", "SGD" => "sgd", "Afmdw" => "afmdw",
        _ => throw new InvalidDataException($"case '{Name}': unknown optimizer '{Optimizer}' (expected Adam, AdamW, NAdam, RAdam, Adamax, SGD or Afmdw)."),
    };
}
