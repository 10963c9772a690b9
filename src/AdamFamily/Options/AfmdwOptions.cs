using AdamFamily.Checkpoints;
using AdamFamily.Rules;
using TorchSharp.Modules;

namespace AdamFamily;

/// <summary>
/// The hyper-parameters of a parameter group. Every value is optional: a group leaves unset what it
/// inherits from the optimizer's defaults, which the preset fills completely. The options themselves are
/// declared in <see cref="OptionSchema"/> (keys follow PyTorch where PyTorch has the option); this class
/// stores their values and runs the schema's checks.
/// </summary>
public sealed partial class AfmdwOptions : OptimizerOptions
{
    private readonly object?[] _values = new object?[OptionSchema.All.Count];

    /// <summary>Bumped by every setter, so the optimizer re-validates and rebuilds its cached rule only when something changed.</summary>
    internal int Version { get; private set; }

    /// <summary>The value of an option (null when unset); <c>lr</c> is TorchSharp's <see cref="OptimizerOptions.LearningRate"/>.</summary>
    public object? Get(OptionDeclaration option)
        => ReferenceEquals(option, OptionSchema.LearningRate) ? LearningRate : _values[option.Index];

    /// <summary>Sets an option (null unsets it); the value must be of the option's type.</summary>
    public void Set(OptionDeclaration option, object? value)
    {
        if (value is not null && value.GetType() != option.ValueType)
            throw new ArgumentException($"option {option.Key} takes {option.ValueType.Name} values, not {value.GetType().Name}.", option.Key);
        if (ReferenceEquals(option, OptionSchema.LearningRate)) LearningRate = (double?)value;
        else { _values[option.Index] = value; Version++; }
    }

    private T? Value<T>(OptionDeclaration<T> option) where T : struct => (T?)_values[option.Index];
    private T? Reference<T>(OptionDeclaration<T> option) where T : class => (T?)_values[option.Index];
    private void Put<T>(OptionDeclaration<T> option, T? value) where T : struct { _values[option.Index] = value; Version++; }
    private void PutRef<T>(OptionDeclaration<T> option, T? value) where T : class { _values[option.Index] = value; Version++; }

    /// <summary>The value of a complete option set, or an error naming the unset option.</summary>
    internal T Required<T>(OptionDeclaration<T> option) where T : notnull
        => Get(option) is T v ? v : throw new InvalidOperationException($"option {option.Key} is unset: complete the options from a preset first (Presets.Complete).");

    /// <summary>A copy of these options.</summary>
    public AfmdwOptions Clone()
    {
        var o = new AfmdwOptions { LearningRate = LearningRate, InitialLearningRate = InitialLearningRate };
        Array.Copy(_values, o._values, _values.Length);
        return o;
    }

    /// <summary>Sets every option that is unset here from <paramref name="defaults"/>.</summary>
    internal void FillFrom(AfmdwOptions defaults)
    {
        foreach (var option in OptionSchema.All)
            if (Get(option) is null) Set(option, defaults.Get(option));
    }

    /// <summary>
    /// Checks every value against its declaration, that no hyper-parameter the rule ignores was changed, then the rule's
    /// cross-option checks, and returns the rule. Throws an <see cref="ArgumentOutOfRangeException"/> that names the
    /// option, the value and the allowed range (an <see cref="ArgumentException"/> for an ignored value).
    /// </summary>
    internal UpdateRule Validate(string where)
    {
        foreach (var option in OptionSchema.All)
        {
            var value = Get(option);
            string? broken = value is null ? "must be set" : option.CheckRange(value);
            if (broken is not null)
                throw new ArgumentOutOfRangeException(option.Key, value, $"{where}: {option.Key} = {Format(option, value)} is out of range: {broken}.");
        }
        // A hyper-parameter the rule does not use (SGD's momentum on an Adam-type rule, β₁ on SGD) must keep its declared
        // default: a value set there would be silently ignored. Structural choices are exempt (presets fix some that
        // their rule then does not consult, e.g. SGD's eps_mode).
        foreach (var option in OptionSchema.All)
        {
            if (option.Structural || option.Relevant is not { } relevant || relevant(this)) continue;
            var value = Get(option);
            if (value is not null && !value.Equals(option.DefaultValue))
                throw new ArgumentException($"{where}: {option.Key} = {Format(option, value)} has no effect on this rule ({option.Summary} is not used here), " +
                                            $"so it would be silently ignored; leave it at {Format(option, option.DefaultValue)}.", option.Key);
        }
        var rule = UpdateRule.From(this);
        rule.Validate(where);
        return rule;
    }

    /// <summary>The update rule these (complete) options describe.</summary>
    public UpdateRule ToRule() => UpdateRule.From(this);

    /// <summary>
    /// The options as "key=value" text in schema order: structural choices when <paramref name="structural"/>
    /// is true, hyper-parameter values otherwise (each shown as its declaration says).
    /// </summary>
    public string Describe(bool structural = false)
    {
        var parts = new List<string>();
        foreach (var option in OptionSchema.All)
        {
            if (option.Structural != structural || option.Display == OptionDisplay.Never) continue;
            var value = Get(option);
            if (value is null || (option.Relevant is { } relevant && !relevant(this))) continue;
            if (option.Display == OptionDisplay.WhenNotDefault && value.Equals(option.DefaultValue)) continue;
            parts.Add($"{option.Key}={Format(option, value)}");
        }
        return string.Join(", ", parts);
    }

    private static string Format(OptionDeclaration option, object? value) => value switch
    {
        null => "(unset)",
        double d => OptionCodecs.FormatNumber(d),
        _ => option.Format(value),
    };

    /// <summary>Writes these options as a checkpoint record (used by TorchSharp's base-class save; see <see cref="AfmdwOptimizer.SaveCheckpoint(string)"/>).</summary>
    public override void SaveStateDict(BinaryWriter writer) => OptionsRecord.Write(writer, this);

    /// <summary>
    /// Not supported: TorchSharp's <c>OptimizerHelper.load_state_dict</c> loads group by group and cannot undo
    /// a failure half-way. Throws before anything changes; use <see cref="AfmdwOptimizer.LoadCheckpoint(string)"/>.
    /// </summary>
    public override void LoadStateDict(BinaryReader reader) => throw AfmdwOptimizer.BaseLoadNotSupported();

    /// <summary>Copies every value (and the learning rates) from another <see cref="AfmdwOptions"/>.</summary>
    public override void LoadStateDict(OptimizerOptions source)
    {
        if (source is not AfmdwOptions s)
            throw new InvalidDataException($"cannot load options of type {source.GetType().Name} into AdamFamily options.");
        InitialLearningRate = s.InitialLearningRate;
        LearningRate = s.LearningRate;
        Array.Copy(s._values, _values, _values.Length);
        Version++;
    }
}
