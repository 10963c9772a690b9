using AdamFamily.Rules;

namespace AdamFamily;

/// <summary>The kinds of preset, for declaring which presets accept an option key in option strings.</summary>
[Flags]
public enum PresetFamily
{
    /// <summary>No preset (the option is set only by preset definitions and checkpoints).</summary>
    None = 0,
    /// <summary>The AFMDW presets (adamd, amsgradd, yogid, adabeliefd, nadamd, afmdw): every rule choice is an option.</summary>
    Afmdw = 1,
    /// <summary>The Adam-style reference presets (adam, adamw, nadam, radam, adamax, adabelief, yogi, ...): PyTorch's signatures.</summary>
    AdamStyle = 2,
    /// <summary>SGD.</summary>
    Sgd = 4,
    /// <summary>Every preset.</summary>
    All = Afmdw | AdamStyle | Sgd,
}

/// <summary>How <see cref="AfmdwOptions.Describe"/> and <see cref="UpdateRule.Describe"/> show an option.</summary>
public enum OptionDisplay
{
    /// <summary>Always shown (where relevant to the rule).</summary>
    Always,
    /// <summary>Shown only when it differs from its declared default.</summary>
    WhenNotDefault,
    /// <summary>Never shown.</summary>
    Never,
}

/// <summary>
/// One optimizer option, declared once in <see cref="OptionSchema"/>: its key (in option strings, checkpoints
/// and descriptions), value type, range check, default, the presets that accept it and how descriptions show
/// it. Parsing, validation, defaults, checkpoints and descriptions all read this declaration.
/// </summary>
public abstract class OptionDeclaration
{
    private protected OptionDeclaration(string key, string summary, PresetFamily families, string[] presets, OptionDisplay display, bool structural)
    {
        Key = key; Summary = summary; Families = families; ExtraPresets = presets; Display = display; Structural = structural;
    }

    /// <summary>The option's key: PyTorch's name where PyTorch has the option.</summary>
    public string Key { get; }
    /// <summary>One line on what the option does.</summary>
    public string Summary { get; }
    /// <summary>The preset families that accept the key in option strings.</summary>
    public PresetFamily Families { get; }
    /// <summary>Further presets, by name, that accept the key.</summary>
    public IReadOnlyList<string> ExtraPresets { get; }
    /// <summary>How descriptions show the option.</summary>
    public OptionDisplay Display { get; }
    /// <summary>Whether the option is a structural choice of the rule (shown by <see cref="UpdateRule.Describe"/>) rather than a hyper-parameter value.</summary>
    public bool Structural { get; }
    /// <summary>The value type.</summary>
    public abstract Type ValueType { get; }
    /// <summary>The declared default (AdamD's; presets override some in <see cref="Presets"/>).</summary>
    public abstract object DefaultValue { get; }

    /// <summary>Position in <see cref="OptionSchema.All"/> (the storage slot in <see cref="AfmdwOptions"/>).</summary>
    internal int Index { get; set; }
    /// <summary>When set, descriptions show the option only if this holds for the (complete) options.</summary>
    internal Func<AfmdwOptions, bool>? Relevant { get; init; }

    /// <summary>Whether the preset accepts this key in option strings.</summary>
    public bool AcceptedBy(PresetInfo preset) => (Families & preset.Family) != 0 || ExtraPresets.Contains(preset.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Parses a value from option-string text; the <see cref="ArgumentException"/> names the key and the text.</summary>
    public abstract object Parse(string text);
    /// <summary>The value as option-string text (parses back to the same value).</summary>
    public abstract string Format(object value);
    /// <summary>Null when the value is in range, otherwise the rule it breaks ("must be ...").</summary>
    public abstract string? CheckRange(object value);
    internal abstract void Write(BinaryWriter writer, object value);
    internal abstract object Read(BinaryReader reader);
}

/// <summary>An option whose values are of type <typeparamref name="T"/>.</summary>
/// <typeparam name="T">The value type.</typeparam>
public sealed class OptionDeclaration<T> : OptionDeclaration where T : notnull
{
    private readonly OptionCodec<T> _codec;
    private readonly Func<T, bool>? _inRange;
    private readonly string? _rangeText;

    internal OptionDeclaration(string key, OptionCodec<T> codec, T defaultValue, string summary, PresetFamily families = PresetFamily.None,
        string[]? presets = null, Func<T, bool>? inRange = null, string? rangeText = null,
        OptionDisplay display = OptionDisplay.Always, bool structural = false)
        : base(key, summary, families, presets ?? Array.Empty<string>(), display, structural)
    {
        _codec = codec; Default = defaultValue; _inRange = inRange; _rangeText = rangeText;
    }

    /// <summary>The declared default.</summary>
    public T Default { get; }
    /// <inheritdoc/>
    public override Type ValueType => typeof(T);
    /// <inheritdoc/>
    public override object DefaultValue => Default;
    /// <inheritdoc/>
    public override object Parse(string text) => _codec.Parse(Key, text);
    /// <inheritdoc/>
    public override string Format(object value) => _codec.Format((T)value);
    /// <inheritdoc/>
    public override string? CheckRange(object value)
        => _codec.Check((T)value) ?? (_inRange is null || _inRange((T)value) ? null : _rangeText ?? "is out of range");
    internal override void Write(BinaryWriter writer, object value) => _codec.Write(writer, (T)value);
    internal override object Read(BinaryReader reader) => _codec.Read(reader);
}

/// <summary>
/// A key that sets other options (betas → beta1 and beta2; PyTorch's amsgrad, decoupled_weight_decay and
/// AFMDW's nesterov flag). Aliases are not stored: checkpoints and descriptions use the options they set.
/// </summary>
public sealed class OptionAlias
{
    private readonly Func<string, IReadOnlyList<(OptionDeclaration Option, object Value)>> _expand;

    internal OptionAlias(string key, string summary, PresetFamily families, string[]? presets,
        Func<string, IReadOnlyList<(OptionDeclaration, object)>> expand)
    {
        Key = key; Summary = summary; Families = families; ExtraPresets = presets ?? Array.Empty<string>(); _expand = expand;
    }

    /// <summary>The key in option strings.</summary>
    public string Key { get; }
    /// <summary>One line on what the key sets.</summary>
    public string Summary { get; }
    /// <summary>The preset families that accept the key.</summary>
    public PresetFamily Families { get; }
    /// <summary>Further presets, by name, that accept the key.</summary>
    public IReadOnlyList<string> ExtraPresets { get; }
    /// <summary>Whether the preset accepts this key.</summary>
    public bool AcceptedBy(PresetInfo preset) => (Families & preset.Family) != 0 || ExtraPresets.Contains(preset.Name, StringComparer.OrdinalIgnoreCase);
    /// <summary>The options and values the text sets; the <see cref="ArgumentException"/> names the key and the text.</summary>
    public IReadOnlyList<(OptionDeclaration Option, object Value)> Expand(string text) => _expand(text);
}
