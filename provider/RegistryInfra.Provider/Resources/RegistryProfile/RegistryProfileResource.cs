using RegistryInfra.Protocol.Model;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RegistryInfra.Core;
using RegistryInfra.Core.Credentials;
using RegistryInfra.Core.Distribution;
using RegistryInfra.Core.DockerConfigJson;
using RegistryInfra.Core.References;
using RegistryInfra.Protocol.Hosting;
using RegistryInfra.Protocol.Resources;
using RegistryInfra.Protocol.Values;

namespace RegistryInfra.Provider.Resources.RegistryProfile;

/// <summary>
/// A registry and how to authenticate to it. Check validates changed credentials and images against the
/// registry, so a bad credential fails the preview; Create and Update obtain tokens and resolve digests;
/// preview has no side effect and no network call. Only a server (or kind) change replaces it.
/// </summary>
internal sealed class RegistryProfileResource(RegistryConnections connections) :
    IResource<RegistryProfileArgs, RegistryProfileState>,
    ICustomCheck<RegistryProfileArgs>,
    ICustomDiff<RegistryProfileArgs, RegistryProfileState>,
    ICustomUpdate<RegistryProfileArgs, RegistryProfileState>,
    ICustomRead<RegistryProfileArgs, RegistryProfileState>,
    IUpgradeInputs
{
    public const string Token = "registryinfra:index:RegistryProfile";

    public const string Description =
        "A container registry and the credentials to pull from it, or none for a public registry. Validates the credentials (and `images`) against the registry in preview " +
        "when they change (or always, see `validate`) and at refresh, and outputs its entry for a Kubernetes `.dockerconfigjson` pull secret and the digests of `images`.";

    /// <summary>The <c>credentialSource</c> of a profile with no credentials.</summary>
    public const string AnonymousSource = "anonymous";

    private static readonly string[] CredentialOutputs = ["authEntry", "dockerConfigJson", "expiresAt"];
    private static readonly string[] ImageOutputs = ["imageDigests", "resolvedImages"];
    private static readonly string[] PassThrough = ["username", "password", "email"];
    private static readonly string[] CredentialInputs = ["username", "password", "ecr", "gcpServiceAccountKey", "gcpAccessToken", "acr", "credentialHelper", "exec"];

    // ---- upgrade -----------------------------------------------------------------------------------------

    /// <summary>
    /// <c>validate</c> was a boolean before it became <see cref="RegistryProfileValidation"/>: <c>true</c> is
    /// <c>onChange</c> (what it did), <c>false</c> is <c>never</c>. Programs written then, and the inputs and state of
    /// their deployments, keep working.
    /// </summary>
    public IReadOnlyDictionary<string, PropertyValue> UpgradeInputs(IReadOnlyDictionary<string, PropertyValue> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (!inputs.TryGetValue("validate", out var value) || value.Kind != PropertyValueKind.Bool)
        {
            return inputs;
        }
        var upgraded = inputs.ToDictionary(StringComparer.Ordinal);
        upgraded["validate"] = PropertyValue.Create(RegistryProfileValidationPulumiEnum.Converter.Wire(value.BoolValue ? RegistryProfileValidation.OnChange : RegistryProfileValidation.Never));
        return upgraded;
    }

    // ---- check -------------------------------------------------------------------------------------------

    public async Task<CheckResult<RegistryProfileArgs>> CheckAsync(CheckContext<RegistryProfileArgs> context, CancellationToken cancellationToken)
    {
        var args = context.Args;
        var unknown = context.UnknownInputs;
        var failures = new List<CheckFailure>();
        var parsed = Parse(args, unknown, failures);
        if (failures.Count > 0 || parsed is null)
        {
            return new CheckResult<RegistryProfileArgs>(args, failures);
        }
        // Only what the registry would answer differently to is worth a network call; an unchanged profile costs none,
        // unless the user asked for every preview. The engine calls Check in every preview and update for each resource
        // the program registers (pulumi/pulumi pkg/resource/deploy/step_generator.go @1a16857a44f1: generateSteps calls prov.Check with
        // the old and new inputs before it diffs), so `always` checks here.
        var mode = args.Validate ?? RegistryProfileValidation.OnChange;
        if (mode != RegistryProfileValidation.Never && unknown.IsEmpty
            && (mode == RegistryProfileValidation.Always || context.OldArgs is null || Fingerprint(context.OldArgs) != Fingerprint(args)))
        {
            await ValidateAsync(parsed, failures, cancellationToken);
        }
        return new CheckResult<RegistryProfileArgs>(args, failures);
    }

    private async Task ValidateAsync(ParsedProfile profile, List<CheckFailure> failures, CancellationToken cancellationToken)
    {
        var credentials = profile.Credentials;
        var (field, who) = credentials is null ? ("server", "anonymous access") : (credentials.Field, credentials.Who);
        var client = connections.For(profile.Tls!);
        var registry = profile.Host!.ApiHost;
        using var deadline = connections.StartDeadline(cancellationToken);
        try
        {
            await client.CheckCredentialsAsync(registry, [.. profile.Images.Where(i => i.Registry.ApiHost == registry).Select(i => i.Repository).Distinct(StringComparer.Ordinal)], credentials?.Source, deadline.Token);
        }
        catch (Exception e) when (deadline.Cut(e))
        {
            failures.Add(new CheckFailure(field,
                $"registry {profile.Host.Name} did not answer the credential check of {who} within {deadline.Described}"
                + (profile.Images.Count == 0 ? "" : $"; not checked: {string.Join(", ", profile.Images.Select((image, i) => $"images[{i}] {image}"))}")));
            return;
        }
        catch (RegistryException e)
        {
            failures.Add(new CheckFailure(field, credentials is null
                ? $"registry {profile.Host.Name} does not allow {who} ({RegistryFailures.Describe(e.Kind)}): {e.Message}; give the profile credentials"
                : $"registry {profile.Host.Name} did not accept the credentials of {who} ({RegistryFailures.Describe(e.Kind)}): {e.Message}"));
            return;
        }
        // Each image where containerd would pull it: registry-1.docker.io/nginx is not docker.io/library/nginx.
        var outcomes = await deadline.ForEachAsync(profile.Images, (image, ct) =>
            client.ResolveAsync(image.Registry.ApiHost, image.Repository, image.ManifestReference, profile.Platform, credentials?.Source, ct));
        for (var i = 0; i < profile.Images.Count; i++)
        {
            var image = profile.Images[i];
            if (!outcomes[i].Finished)
            {
                failures.Add(new CheckFailure($"images[{i}]", $"{image} did not finish resolving within {deadline.Described}"));
            }
            else if (outcomes[i].Error is { } e)
            {
                failures.Add(new CheckFailure($"images[{i}]", credentials is null
                    ? $"{image} cannot be pulled anonymously ({RegistryFailures.Describe(e.Kind)}): {e.Message}"
                    : $"{image} cannot be pulled with the credentials of {who} ({RegistryFailures.Describe(e.Kind)}): {e.Message}"));
            }
        }
    }

    /// <summary>The inputs the registry's answer depends on, as one comparable text (never shown).</summary>
    private static string Fingerprint(RegistryProfileArgs args) =>
        JsonSerializer.Serialize(args with { Email = null, Server = Normalised(args.Server) }, FingerprintJson.Default.RegistryProfileArgs);

    private static string Normalised(string server) => RegistryHost.TryParse(server, out var host) ? host.Name : server;

    // ---- create, update ------------------------------------------------------------------------------------

    public async Task<CreateResult<RegistryProfileState>> CreateAsync(CreateContext<RegistryProfileArgs> context, CancellationToken cancellationToken)
    {
        var (state, unknown) = await ComputeAsync(context.Args, context.UnknownInputs, context.Preview, null, null, cancellationToken);
        return new CreateResult<RegistryProfileState>(state.Server, state, unknown);
    }

    public async Task<UpdateResult<RegistryProfileState>> UpdateAsync(UpdateContext<RegistryProfileArgs, RegistryProfileState> context, CancellationToken cancellationToken)
    {
        var (state, unknown) = await ComputeAsync(context.Args, context.UnknownInputs, context.Preview, context.OldArgs, context.OldState, cancellationToken);
        return new UpdateResult<RegistryProfileState>(state, unknown);
    }

    private async Task<(RegistryProfileState, ImmutableHashSet<string>)> ComputeAsync(
        RegistryProfileArgs args, ImmutableHashSet<string> unknownInputs, bool preview, RegistryProfileArgs? oldArgs, RegistryProfileState? oldState,
        CancellationToken cancellationToken)
    {
        var unknown = ImmutableHashSet.CreateBuilder<string>(StringComparer.Ordinal);
        var failures = new List<CheckFailure>();
        var profile = Parse(args, unknownInputs, failures);
        if (failures.Count > 0 || profile is null)
        {
            throw new ArgumentException(string.Join("; ", failures.Select(f => $"{f.Property}: {f.Reason}")));
        }
        if (profile.Host is null)
        {
            // Everything derives from the server.
            unknown.UnionWith(["server", "kind", .. CredentialOutputs, .. ImageOutputs]);
            if (TokenBasedOf(args) is null)
            {
                unknown.Add("tokenBased");
            }
            unknown.Add("pullSecretKeys");
            return (new RegistryProfileState("", RegistryProfileKind.Generic, SetSource(args), args.Username, args.Password, args.Email, "", "", TokenBased: TokenBasedOf(args),
                Anonymous: AnonymousOf(args)), unknown.ToImmutable());
        }
        foreach (var name in PassThrough.Where(unknownInputs.Contains))
        {
            unknown.Add(name);
        }

        using var deadline = connections.StartDeadline(cancellationToken);
        var credentialInputsUnchanged = oldArgs is not null && oldState is not null && oldState.AuthEntry.Length > 0
            && CredentialFingerprint(oldArgs) == CredentialFingerprint(args);
        string authEntry = "", document = "";
        string? expiresAt = null;
        RegistryCredential? credential = null;
        if (profile.Anonymous)
        {
            // Nothing to write: the kubelet pulls anonymously when no key matches (keyring.go Lookup finds none).
            document = DockerConfig.FromEntries([]).Serialize();
        }
        else if (profile.Credentials is null || unknownInputs.Count > 0 && !unknownInputs.All(p => p == "images" || p.StartsWith("images[", StringComparison.Ordinal)))
        {
            unknown.UnionWith(CredentialOutputs);
        }
        else if (profile.Credentials.IsTokenBased && credentialInputsUnchanged)
        {
            // The refresher renews tokens in clusters; an update that does not touch the credential keeps the entry it has.
            (authEntry, document, expiresAt) = (oldState!.AuthEntry, oldState.DockerConfigJson, oldState.ExpiresAt);
        }
        else if (profile.Credentials.IsTokenBased && preview)
        {
            unknown.UnionWith(CredentialOutputs);
        }
        else
        {
            credential = await CredentialWithinDeadlineAsync(profile, deadline);
            (authEntry, document) = Entry(profile.Keys!, credential, args.Email);
            expiresAt = credential.ExpiresAt?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }

        IReadOnlyDictionary<string, string>? digests = null;
        IReadOnlyList<ResolvedImageOutput>? resolved = null;
        if (args.Images is { Count: > 0 } || unknownInputs.Contains("images"))
        {
            if (preview)
            {
                var imagesUnchanged = oldArgs is not null && oldState?.ResolvedImages is not null && ImageFingerprint(oldArgs) == ImageFingerprint(args)
                    && CredentialFingerprint(oldArgs with { Email = null }) == CredentialFingerprint(args with { Email = null });
                if (imagesUnchanged && !unknownInputs.Any(p => p.StartsWith("images", StringComparison.Ordinal)))
                {
                    (digests, resolved) = (oldState!.ImageDigests, oldState.ResolvedImages);
                }
                else
                {
                    unknown.UnionWith(ImageOutputs);
                }
            }
            else
            {
                (digests, resolved) = await ResolveAsync(profile, credential, deadline);
            }
        }
        var state = new RegistryProfileState(profile.Keys!.PrimaryKey, profile.Kind, profile.Anonymous ? AnonymousSource : profile.Credentials?.Kind ?? SetSource(args),
            args.Username, args.Password, args.Email, authEntry, document, expiresAt, digests, resolved,
            profile.Anonymous ? false : profile.Credentials?.IsTokenBased ?? TokenBasedOf(args), AnonymousOf(args), profile.Keys.Keys);
        if (state.TokenBased is null)
        {
            unknown.Add("tokenBased");
        }
        return (state, unknown.ToImmutable());
    }

    private async Task<(IReadOnlyDictionary<string, string>, IReadOnlyList<ResolvedImageOutput>)> ResolveAsync(
        ParsedProfile profile, RegistryCredential? credential, RegistryDeadline deadline)
    {
        var client = connections.For(profile.Tls!);
        if (!profile.Anonymous)
        {
            credential ??= await CredentialWithinDeadlineAsync(profile, deadline);
        }
        var outcomes = await deadline.ForEachAsync(profile.Images, (image, ct) =>
            client.ResolveAsync(image.Registry.ApiHost, image.Repository, image.ManifestReference, profile.Platform, credential, ct));
        var unfinished = profile.Images.Select((image, i) => (image, i)).Where(x => !outcomes[x.i].Finished).Select(x => $"images[{x.i}] {x.image}").ToList();
        if (unfinished.Count > 0)
        {
            throw new TimeoutException($"RegistryProfile {profile.Host!.Name}: {string.Join(", ", unfinished)} did not finish resolving within {deadline.Described}");
        }
        if (outcomes.FirstOrDefault(o => o.Error is not null)?.Error is { } error)
        {
            throw error;
        }
        var digests = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var resolved = new List<ResolvedImageOutput>();
        for (var i = 0; i < profile.Images.Count; i++)
        {
            var (image, text, result) = (profile.Images[i], profile.ImageTexts[i], outcomes[i].Value!);
            digests[text] = result.Digest;
            resolved.Add(new ResolvedImageOutput(text, result.Digest, image.WithoutTagOrDigest().WithDigest(result.Digest).ToString()));
        }
        return (digests, resolved);
    }

    private static async Task<RegistryCredential> CredentialWithinDeadlineAsync(ParsedProfile profile, RegistryDeadline deadline)
    {
        try
        {
            return await profile.Credentials!.Source.GetCredentialAsync(deadline.Token);
        }
        catch (Exception e) when (deadline.Cut(e))
        {
            throw new TimeoutException($"RegistryProfile {profile.Host!.Name}: the credential of {profile.Credentials!.Who} did not come within {deadline.Described}"
                + (profile.Images.Count == 0 ? "" : $"; not resolved: {string.Join(", ", profile.Images.Select((image, i) => $"images[{i}] {image}"))}"));
        }
    }

    // One entry per key the kubelet needs (aliases, case spellings of the images), each with the same credential.
    private static (string AuthEntry, string Document) Entry(PullSecretKeys keys, RegistryCredential credential, string? email)
    {
        var entries = keys.Keys.Select(key => DockerConfigEntry.Create(key, credential, string.IsNullOrEmpty(email) ? null : email)).ToList();
        var document = DockerConfig.FromEntries(entries).Serialize();
        var auth = JsonNode.Parse(document)!["auths"]![entries[0].Key]!.ToJsonString();
        return (auth, document);
    }

    private static string CredentialFingerprint(RegistryProfileArgs args) =>
        JsonSerializer.Serialize(args with { Images = null, Platform = null, Validate = null, Server = Normalised(args.Server) }, FingerprintJson.Default.RegistryProfileArgs);

    private static string ImageFingerprint(RegistryProfileArgs args) =>
        JsonSerializer.Serialize(new ImageInputs(args.Images, args.Platform, args.CaCertificates, args.Insecure), FingerprintJson.Default.ImageInputs);

    private static string SetSource(RegistryProfileArgs args) => ProfileCredentials.SetSources(args) is [var only] ? only : "";

    /// <summary>No credential source is set (known even while the server is not).</summary>
    private static bool AnonymousOf(RegistryProfileArgs args) => ProfileCredentials.SetSources(args).Count == 0;

    /// <summary>Core's credential-kind table decides, from which source is set (known even when its settings are not).</summary>
    private static bool? TokenBasedOf(RegistryProfileArgs args) => SetSource(args) is { Length: > 0 } kind ? CredentialKinds.Of(kind).TokenBased : null;

    // ---- read (refresh) --------------------------------------------------------------------------------------

    /// <summary>
    /// Refresh re-validates (unless <c>validate: never</c>) and changes nothing: a profile has no remote object, and a
    /// token fetched to check is not put into state. A registry that no longer accepts the credentials fails the refresh
    /// with the field named; the engine then keeps the recorded state (pulumi/pulumi pkg/resource/deploy/step.go
    /// @ef316af51869: RefreshStep.Apply returns the Read error, unless a partial failure, before it builds the new state).
    /// </summary>
    public async Task<ReadResult<RegistryProfileArgs, RegistryProfileState>?> ReadAsync(ReadContext<RegistryProfileArgs, RegistryProfileState> context, CancellationToken cancellationToken)
    {
        if (context.State is null)
        {
            throw new NotSupportedException($"import of {Token}: a profile has no object in the registry to read; declare it in the program (its inputs are its whole definition)");
        }
        if (context.Args is not { } args)
        {
            // A state recorded without inputs: nothing to validate against, and nothing to change.
            return new ReadResult<RegistryProfileArgs, RegistryProfileState>(context.Id, context.State, null);
        }
        if ((args.Validate ?? RegistryProfileValidation.OnChange) != RegistryProfileValidation.Never)
        {
            var failures = new List<CheckFailure>();
            var parsed = Parse(args, [], failures);
            if (failures.Count == 0 && parsed is not null)
            {
                await ValidateAsync(parsed, failures, cancellationToken);
            }
            if (failures.Count > 0)
            {
                throw new RegistryException(RegistryErrorKind.InvalidInput,
                    $"refresh of {Token} {parsed?.Host?.Name ?? args.Server} found it no longer valid (state left unchanged): "
                    + string.Join("; ", failures.Select(f => $"{f.Property}: {f.Reason}")));
            }
        }
        return new ReadResult<RegistryProfileArgs, RegistryProfileState>(context.Id, context.State, args);
    }

    // ---- diff ----------------------------------------------------------------------------------------------

    public Task<DiffResponse> DiffAsync(DiffContext<RegistryProfileArgs, RegistryProfileState> context, CancellationToken cancellationToken)
    {
        var request = context.Request;
        // Secrets are compared by content and reported by name only; the engine shows them as [secret].
        var diff = InputDiff.Compute(ModelShape.Of<RegistryProfileArgs>(), request.OldInputs.Count > 0 ? request.OldInputs : request.OldState, request.NewInputs,
            request.IgnoreChanges, replaceEveryChange: false);
        var detailed = diff.DetailedDiff.ToDictionary(StringComparer.Ordinal);
        var serverUnknown = context.UnknownInputs.Contains("server");
        if (!serverUnknown && detailed.ContainsKey("server")
            && PullSecretKeys.TryFor(context.NewArgs.Server, context.NewArgs.Images, "server", out var keys, out _) && keys.PrimaryKey == context.OldState.Server)
        {
            // https://ghcr.io/ is the server ghcr.io already is (GHCR.io is not: the kubelet compares host case as written).
            detailed.Remove("server");
        }
        if (!serverUnknown && !context.UnknownInputs.Contains("kind") && detailed.ContainsKey("kind")
            && RegistryHost.TryParse(context.NewArgs.Server, out var newHost) && EffectiveKind(context.NewArgs.Kind, newHost) == context.OldState.Kind)
        {
            detailed.Remove("kind");
        }
        if (detailed.Count == 0)
        {
            return Task.FromResult(DiffResponse.None);
        }
        var replaces = diff.Replaces.Where(detailed.ContainsKey).ToImmutableArray();
        return Task.FromResult(new DiffResponse(true, replaces, [], false, detailed.ToImmutableSortedDictionary(StringComparer.Ordinal)));
    }

    // ---- parsing -------------------------------------------------------------------------------------------

    // Anonymous: no credential source is set, so the registry is reached without credentials.
    private sealed record ParsedProfile(
        RegistryHost? Host, PullSecretKeys? Keys, RegistryProfileKind Kind, ProfileCredentials? Credentials, RegistryTls? Tls,
        IReadOnlyList<ImageReference> Images, IReadOnlyList<string> ImageTexts, ImagePlatform? Platform, bool Anonymous);

    /// <summary>Every input checked, with failures that name the field; parts that depend on unknown inputs are left null.</summary>
    private static ParsedProfile? Parse(RegistryProfileArgs args, ImmutableHashSet<string> unknown, List<CheckFailure> failures)
    {
        bool Known(string name) => !unknown.Any(p => p == name || p.StartsWith(name + ".", StringComparison.Ordinal) || p.StartsWith(name + "[", StringComparison.Ordinal));
        RegistryHost? host = null;
        var kind = RegistryProfileKind.Generic;
        if (Known("server"))
        {
            if (!RegistryHost.TryParse(args.Server, out host, out var error))
            {
                failures.Add(new CheckFailure("server", error));
            }
            else
            {
                kind = ToProfileKind(host.Kind);
                if (Known("kind") && args.Kind is { } given && given != kind)
                {
                    if (kind != RegistryProfileKind.Generic)
                    {
                        failures.Add(new CheckFailure("kind", $"'{Wire(given)}' disagrees with the server {host.Name}, which is {Wire(kind)}; leave kind unset or set it to '{Wire(kind)}'"));
                    }
                    kind = given;
                }
            }
        }
        ProfileCredentials? credentials = null;
        var anonymous = CredentialInputs.All(Known) && ProfileCredentials.SetSources(args).Count == 0;
        if (anonymous)
        {
            // A public registry (MCR, public Docker Hub, ECR Public, GHCR and Quay public images): checked and resolved anonymously.
        }
        else if (host is not null && CredentialInputs.All(Known))
        {
            var (built, credentialFailures) = ProfileCredentials.Build(args, host);
            failures.AddRange(credentialFailures.Select(f => new CheckFailure(f.Field, f.Reason)));
            credentials = built;
        }
        else if (CredentialInputs.All(Known) && ProfileCredentials.SetSources(args).Count > 1)
        {
            failures.Add(new CheckFailure("username", "exactly one credential source must be set: 'username' and 'password', or one of 'ecr', 'gcpServiceAccountKey', 'gcpAccessToken', 'acr', 'credentialHelper', 'exec'"));
        }
        if (Known("email") && args.Email is { } email && (email.Length > 254 || email.Any(char.IsControl)))
        {
            // RFC 5321 bounds an address at 254 characters; a control character would break the dockerconfigjson consumer's line.
            failures.Add(new CheckFailure("email", email.Length > 254
                ? $"must be at most 254 characters (an e-mail address), got {email.Length.ToString(CultureInfo.InvariantCulture)}"
                : "must not contain control characters (newline, NUL, tab)"));
        }
        RegistryTls? tls = null;
        if (Known("caCertificates") && Known("insecure"))
        {
            var (parsedTls, tlsFailures) = RegistryTls.Parse(args.CaCertificates, args.Insecure ?? false, host?.ApiHost);
            failures.AddRange(tlsFailures.Select(f => new CheckFailure(f.Field, f.Reason)));
            tls = parsedTls;
        }
        ImagePlatform? platform = null;
        if (Known("platform") && args.Platform is { } platformText)
        {
            try
            {
                platform = ImagePlatform.Parse(platformText);
            }
            catch (RegistryException e)
            {
                failures.Add(new CheckFailure("platform", e.Message));
            }
        }
        var images = new List<ImageReference>();
        var texts = new List<string>();
        if (Known("images"))
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < (args.Images?.Count ?? 0); i++)
            {
                var text = args.Images![i];
                if (!ImageReference.TryParse(text, out var image, out var error))
                {
                    failures.Add(new CheckFailure($"images[{i}]", error));
                }
                else if (host is not null && image.Registry != host && !(image.Registry.Kind == RegistryKind.DockerHub && host.Kind == RegistryKind.DockerHub))
                {
                    failures.Add(new CheckFailure($"images[{i}]", $"'{text}' is on registry {image.Registry.Name}, not on this profile's server {host.Name}; name the registry in the reference, like {host.Spelling}/{image.Repository}"));
                }
                else if (!seen.Add(text))
                {
                    failures.Add(new CheckFailure($"images[{i}]", $"'{text}' is listed twice"));
                }
                else
                {
                    images.Add(image);
                    texts.Add(text);
                }
            }
        }
        if (failures.Count > 0)
        {
            return null;
        }
        PullSecretKeys? keys = null;
        if (host is not null)
        {
            if (!PullSecretKeys.TryFor(args.Server, Known("images") ? args.Images : null, "server", out keys, out var keyError))
            {
                failures.Add(new CheckFailure(keyError.Field, keyError.Message));
                return null;
            }
        }

        return new ParsedProfile(host, keys, kind, credentials, tls, images, texts, platform, anonymous);
    }

    private static RegistryProfileKind EffectiveKind(RegistryProfileKind? given, RegistryHost host) => given ?? ToProfileKind(host.Kind);

    // The members carry Core's values (RegistryProfileArgs.cs), so the cast is exact.
    private static RegistryProfileKind ToProfileKind(RegistryKind kind) => (RegistryProfileKind)(int)kind;

    private static string Wire(RegistryProfileKind kind) =>
        RegistryProfileKindPulumiEnum.Converter.Wire(kind);
}
