"""The ASGI entry point uvicorn serves (`warden serve`): settings come from the environment."""

from warden.api.app import create_app

app = create_app()
