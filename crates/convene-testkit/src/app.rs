pub struct TestApp;
pub async fn spawn_app() {}
pub async fn spawn_app_with() {}
