"""Developer tools that drive a running sandbox over HTTP: `sandbox listen` and `sandbox trigger`.

Like the contract kit, they talk to a sandbox only through its API: they read the spec
(`sandbox.spec`) and sign with `sandbox.domain.signing`, and never import its storage,
handlers or HTTP layer.
"""
