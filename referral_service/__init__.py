"""The Duty to Refer referral and messaging service. The application factory is
``referral_service.app.create_app``; this package root imports nothing, so importing any one
module of the service never imports the whole app with it."""
