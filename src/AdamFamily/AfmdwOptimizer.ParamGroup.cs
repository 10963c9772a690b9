using AdamFamily.Execution;
using AdamFamily.Rules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim;

namespace AdamFamily;

public partial class AfmdwOptimizer
{
    /// <summary>A parameter group: its parameters (materialised at construction) and its options; unset options inherit the optimizer's defaults.</summary>
    public class ParamGroup : ParamGroup<AfmdwOptions>, IBetas
    {
        /// <summary>An empty group (set <c>Parameters</c> and <c>Options</c> in an initialiser).</summary>
        public ParamGroup() { }

        /// <summary>A group of <paramref name="parameters"/>; unset <paramref name="options"/> inherit the optimizer's defaults.</summary>
        public ParamGroup(IEnumerable<Parameter> parameters, AfmdwOptions? options = null)
            : base(parameters.ToArray(), options ?? new AfmdwOptions()) { }

        /// <summary>A group whose parameters carry names (used in error messages).</summary>
        public ParamGroup(IEnumerable<(string name, Parameter parameter)> parameters, AfmdwOptions? options = null)
            : this(parameters.ToArray(), options) { }

        private ParamGroup((string name, Parameter parameter)[] named, AfmdwOptions? options)
            : base(named.Select(n => n.parameter).ToArray(), options ?? new AfmdwOptions())
        {
            Names = named.Select(n => n.name).ToArray();
        }

        /// <summary>Parameter names, parallel to Parameters, when the group was built from named parameters.</summary>
        public IReadOnlyList<string>? Names { get; init; }

        /// <summary>The group's (β₁, β₂), as OneCycleLR cycles them; checked before the next step.</summary>
        public (double, double) Betas
        {
            get => (Options.Beta1!.Value, Options.Beta2!.Value);
            set { Options.Beta1 = value.Item1; Options.Beta2 = value.Item2; }
        }

        // Cached resolved rule, rebuilt only when the options change (no allocation per step).
        internal UpdateRule? Rule;
        internal int RuleVersion = -1;
        internal double CheckedLearningRate = double.NaN;
        internal Parameter[] Params = Array.Empty<Parameter>();
    }
}
