"""What the stack reads for `module: glossary_builtin`: the provider's spec."""

try:  # llama-stack
    from llama_stack_api import Api, RemoteProviderSpec
except ImportError:  # OGX, the renamed project
    from ogx_api import Api, RemoteProviderSpec


def get_provider_spec() -> RemoteProviderSpec:
    return RemoteProviderSpec(
        # The API is external: `add` registers it, or returns it if the
        # stack has already (it has, from apis.d, before it imports this).
        api=Api.add("glossary"),
        adapter_type="builtin-glossary",
        provider_type="remote::builtin-glossary",
        module="glossary_builtin",
        config_class="glossary_builtin.BuiltinGlossaryConfig",
        pip_packages=[],
    )
