"""Prints Class.method for every unittest case of a module, one per line.

Used by tests/CMakeLists.txt so that each integration test case becomes its
own ctest test. The module is parsed, not imported, so listing needs nothing
built yet.
"""
import ast
import sys

tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
for node in tree.body:
    if isinstance(node, ast.ClassDef):
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name.startswith("test"):
                print(f"{node.name}.{item.name}")
