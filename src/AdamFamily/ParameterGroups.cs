using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AdamFamily;

/// <summary>Builds parameter groups from a module.</summary>
public static class ParameterGroups
{
    /// <summary>
    /// Splits a module's parameters into a decay group (inheriting the optimizer's weight decay, or
    /// <paramref name="weightDecay"/> when given) and a no-decay group (weight decay 0). No decay goes to
    /// biases, every 1-D parameter, every parameter of a normalisation layer (BatchNorm, LayerNorm,
    /// GroupNorm, InstanceNorm, RMSNorm, ...), and every parameter whose full name matches one of
    /// <paramref name="noDecayPatterns"/> ('*' any run of characters, '?' one character; e.g. "embedding.*").
    /// Empty groups are left out. Parameters that do not require gradients are left out too.
    /// </summary>
    public static AfmdwOptimizer.ParamGroup[] DecayAndNoDecay(nn.Module module, double? weightDecay = null, IEnumerable<string>? noDecayPatterns = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var patterns = (noDecayPatterns ?? Array.Empty<string>())
            .Select(p => new Regex("^" + Regex.Escape(p).Replace("\\*", ".*").Replace("\\?", ".") + "$", RegexOptions.CultureInvariant))
            .ToArray();

        var inNormLayer = new HashSet<IntPtr>();
        foreach (var (_, m) in module.named_modules())
            if (IsNormalisation(m))
                foreach (var (_, p) in m.named_parameters(recurse: false))
                    inNormLayer.Add(p.Handle);

        var decay = new List<(string, Parameter)>();
        var noDecay = new List<(string, Parameter)>();
        foreach (var (name, p) in module.named_parameters())
        {
            if (!p.requires_grad) continue;
            bool exempt = p.dim() <= 1 || name == "bias" || name.EndsWith(".bias", StringComparison.Ordinal)
                          || inNormLayer.Contains(p.Handle) || patterns.Any(r => r.IsMatch(name));
            (exempt ? noDecay : decay).Add((name, p));
        }

        var groups = new List<AfmdwOptimizer.ParamGroup>();
        if (decay.Count > 0) groups.Add(new AfmdwOptimizer.ParamGroup(decay, new AfmdwOptions { WeightDecay = weightDecay }));
        if (noDecay.Count > 0) groups.Add(new AfmdwOptimizer.ParamGroup(noDecay, new AfmdwOptions { WeightDecay = 0 }));
        return groups.ToArray();
    }

    private static bool IsNormalisation(nn.Module m)
    {
        var name = m.GetType().Name;
        return name.Contains("Norm", StringComparison.Ordinal) && !name.Contains("Normalize", StringComparison.Ordinal);
    }
}
