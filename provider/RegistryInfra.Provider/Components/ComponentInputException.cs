namespace RegistryInfra.Provider.Components;

/// <summary>A component's input is missing or wrong; the message names the field as a path in the inputs.</summary>
public sealed class ComponentInputException : Exception
{
    public ComponentInputException(string field, string problem) : base($"{field}: {problem}")
    {
        Field = field;
        Problem = problem;
    }

    public ComponentInputException() : base("invalid component input")
    {
        Field = "";
    }

    public ComponentInputException(string message, Exception innerException) : base(message, innerException)
    {
        Field = "";
    }

    public string Field { get; }

    /// <summary>What is wrong with <see cref="Field"/>, without the field's name.</summary>
    public string Problem { get; } = "";
}
