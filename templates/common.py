"""Names and small building blocks shared by both stacks."""

from troposphere import ImportValue, Output, Export, Sub, Tags, Template

APPLICATION = "kafkajs-canary-app"

# What the registry stack exports and the app stack imports, by output key.
REGISTRY_EXPORTS = ("RepositoryName", "RepositoryArn", "RepositoryUri")

# Metadata key under which a resource justifies each IAM statement that needs `Resource: "*"`,
# keyed by the statement's Sid. The custom lint rules check it is there.
WILDCARD_JUSTIFICATIONS = "WildcardResourceJustifications"


def application_tags(**extra: str) -> Tags:
    """The tag every taggable resource carries, so cost and inventory reports can find the canary."""
    return Tags(Application=APPLICATION, **extra)


def add_exported_output(template: Template, key: str, value, description: str) -> Output:
    """An output exported as `<stack name>-<key>`: two copies of a stack in one account cannot collide."""
    return template.add_output(
        Output(key, Description=description, Value=value, Export=Export(Sub("${AWS::StackName}-" + key)))
    )


def import_from_registry(registry_stack_name, key: str) -> ImportValue:
    """Import one of the registry stack's exports, given a Ref to the registry stack's name."""
    if key not in REGISTRY_EXPORTS:
        raise ValueError(f"the registry stack exports no {key!r}")
    return ImportValue(Sub("${Registry}-" + key, Registry=registry_stack_name))


def new_template(description: str) -> Template:
    template = Template(Description=description)
    template.set_version("2010-09-09")
    return template
