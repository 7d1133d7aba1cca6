"""Print, as JSON, chosen variables of one inventory host as a play would
template them: the inventory loaded and its variables merged by Ansible's own
InventoryManager and VariableManager, then templated by its Templar (lookups
and filters of the collection included). Nothing connects to the host.

    python render_hostvars.py <inventory> <host> '<extra vars as JSON>' <name>...

Run from the project directory (its ansible.cfg finds the collection).
"""

import json
import sys

from ansible import constants as C, context
from ansible.inventory.manager import InventoryManager
from ansible.module_utils.common.collections import ImmutableDict
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader
from ansible.template import Templar
from ansible.vars.manager import VariableManager


def main(inventory, host, extra_vars, *names):
    init_plugin_loader(C.COLLECTIONS_PATHS)
    context.CLIARGS = ImmutableDict(extra_vars=(extra_vars,) if json.loads(extra_vars) else ())
    loader = DataLoader()
    manager = VariableManager(loader=loader, inventory=InventoryManager(loader=loader, sources=[inventory]))
    target = manager._inventory.get_host(host)
    if target is None:
        sys.exit("no host %s in %s" % (host, inventory))
    variables = manager.get_vars(host=target)
    templar = Templar(loader=loader, variables=variables)
    print(json.dumps({name: templar.template(variables[name]) for name in names}))


if __name__ == "__main__":
    main(*sys.argv[1:])
